import TensorCore

/// diffusers' spatial self-attention (`Attention` with `residual_connection=True`, as used by
/// AttnDownBlock2D, AttnUpBlock2D and the mid block): group norm, multi-head attention over the
/// H·W positions, output projection, residual.
struct AttentionBlock {
    let groupNorm: GroupNormLayer
    let toQ: LinearLayer, toK: LinearLayer, toV: LinearLayer, toOut: LinearLayer
    let heads: Int
    let rescaleOutputFactor: Float

    init(_ b: ParameterBuilder, _ name: String, channels: Int, headDim: Int?, groups: Int, eps: Float,
         rescaleOutputFactor: Float = 1) {
        groupNorm = GroupNormLayer(b, name + ".group_norm", groups: groups, channels: channels, eps: eps)
        toQ = LinearLayer(b, name + ".to_q", in: channels, out: channels)
        toK = LinearLayer(b, name + ".to_k", in: channels, out: channels)
        toV = LinearLayer(b, name + ".to_v", in: channels, out: channels)
        toOut = LinearLayer(b, name + ".to_out.0", in: channels, out: channels)
        heads = channels / (headDim ?? channels)
        self.rescaleOutputFactor = rescaleOutputFactor
    }

    /// `[N, C, H, W] → [N, C, H, W]`
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let l = h * w, d = c / heads
        let tokens = groupNorm(x).reshaped([n, c, l]).permuted([0, 2, 1])     // [N, L, C]
        func splitHeads(_ t: Tensor) -> Tensor {                             // [N, L, C] → [N·heads, L, d]
            t.reshaped([n, l, heads, d]).permuted([0, 2, 1, 3]).reshaped([n * heads, l, d])
        }
        let q = splitHeads(toQ(tokens)), k = splitHeads(toK(tokens)), v = splitHeads(toV(tokens))
        let attended = Tensor.attention(query: q, key: k, value: v)          // [N·heads, L, d]
            .reshaped([n, heads, l, d]).permuted([0, 2, 1, 3]).reshaped([n, l, c])
        let out = toOut(attended).permuted([0, 2, 1]).reshaped([n, c, h, w]) + x
        return rescaleOutputFactor == 1 ? out : out.scaled(by: 1 / rescaleOutputFactor)
    }
}
