import TensorCore

/// One layer of CLIP's text transformer (pre-norm): `h = x + attn(ln1(x))` with causal
/// multi-head self-attention (q/k/v/out projections with biases, scale `1/√headDim`), then
/// `h + fc2(act(fc1(ln2(h))))`.
struct CLIPEncoderLayer {
    let layerNorm1: LayerNormLayer, layerNorm2: LayerNormLayer
    let qProj: LinearLayer, kProj: LinearLayer, vProj: LinearLayer, outProj: LinearLayer
    let fc1: LinearLayer, fc2: LinearLayer
    let heads: Int
    let activation: CLIPTextConfig.Activation

    init(_ b: ParameterBuilder, _ name: String, config c: CLIPTextConfig) {
        let d = c.hiddenSize
        layerNorm1 = LayerNormLayer(b, name + ".layer_norm1", features: d, eps: c.layerNormEps)
        qProj = LinearLayer(b, name + ".self_attn.q_proj", in: d, out: d)
        kProj = LinearLayer(b, name + ".self_attn.k_proj", in: d, out: d)
        vProj = LinearLayer(b, name + ".self_attn.v_proj", in: d, out: d)
        outProj = LinearLayer(b, name + ".self_attn.out_proj", in: d, out: d)
        layerNorm2 = LayerNormLayer(b, name + ".layer_norm2", features: d, eps: c.layerNormEps)
        fc1 = LinearLayer(b, name + ".mlp.fc1", in: d, out: c.intermediateSize)
        fc2 = LinearLayer(b, name + ".mlp.fc2", in: c.intermediateSize, out: d)
        heads = c.numAttentionHeads
        activation = c.hiddenAct
    }

    /// `[B, L, D] → [B, L, D]`
    func callAsFunction(_ x: Tensor) -> Tensor {
        let n = layerNorm1(x)
        let q = qProj(n).splittingHeads(heads), k = kProj(n).splittingHeads(heads), v = vProj(n).splittingHeads(heads)   // [B·heads, L, d]
        let h = x + outProj(Tensor.attention(query: q, key: k, value: v, causal: true).mergingHeads(heads))
        let m = fc1(layerNorm2(h))                                              // [B, L, intermediate]
        let a: Tensor
        switch activation {
        case .quickGELU: a = m * m.scaled(by: 1.702).sigmoid()
        case .gelu: a = m.gelu()
        }
        return h + fc2(a)
    }
}
