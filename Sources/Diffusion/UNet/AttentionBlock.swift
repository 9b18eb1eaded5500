import TensorCore

/// diffusers' spatial self-attention (`Attention` with `residual_connection=True`, as used by
/// AttnDownBlock2D, AttnUpBlock2D and the mid block): group norm, multi-head attention over the
/// H·W positions, output projection, residual. With `viewGroup` `g > 1` (a multi-view model,
/// ``UNet2DConfig/viewTiles``) every `g` consecutive batch items are views of one scene and
/// attend over all their `g·H·W` positions together (MVDream's cross-view attention; the
/// weights are the same as diffusers').
struct AttentionBlock {
    let groupNorm: GroupNormLayer
    let toQ: LinearLayer, toK: LinearLayer, toV: LinearLayer, toOut: LinearLayer
    let heads: Int
    let rescaleOutputFactor: Float
    let viewGroup: Int

    init(_ b: ParameterBuilder, _ name: String, channels: Int, headDim: Int?, groups: Int, eps: Float,
         rescaleOutputFactor: Float = 1, viewGroup: Int = 1) {
        groupNorm = GroupNormLayer(b, name + ".group_norm", groups: groups, channels: channels, eps: eps)
        toQ = LinearLayer(b, name + ".to_q", in: channels, out: channels)
        toK = LinearLayer(b, name + ".to_k", in: channels, out: channels)
        toV = LinearLayer(b, name + ".to_v", in: channels, out: channels)
        toOut = LinearLayer(b, name + ".to_out.0", in: channels, out: channels)
        heads = channels / (headDim ?? channels)
        self.rescaleOutputFactor = rescaleOutputFactor
        self.viewGroup = viewGroup
    }

    /// `[N, C, H, W] → [N, C, H, W]`
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (items, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(items % viewGroup == 0, "a multi-view attention block takes views in groups of \(viewGroup), got \(items)")
        let n = items / viewGroup, l = viewGroup * h * w, d = c / heads        // a group's views share one token set
        let tokens = groupNorm(x).reshaped([items, c, h * w]).permuted([0, 2, 1]).reshaped([n, l, c])     // [N, L, C]
        func splitHeads(_ t: Tensor) -> Tensor {                             // [N, L, C] → [N·heads, L, d]
            t.reshaped([n, l, heads, d]).permuted([0, 2, 1, 3]).reshaped([n * heads, l, d])
        }
        let q = splitHeads(toQ(tokens)), k = splitHeads(toK(tokens)), v = splitHeads(toV(tokens))
        let attended = Tensor.attention(query: q, key: k, value: v)          // [N·heads, L, d]
            .reshaped([n, heads, l, d]).permuted([0, 2, 1, 3]).reshaped([n, l, c])
        let out = toOut(attended).reshaped([items, h * w, c]).permuted([0, 2, 1]).reshaped([items, c, h, w]) + x
        return rescaleOutputFactor == 1 ? out : out.scaled(by: 1 / rescaleOutputFactor)
    }
}
