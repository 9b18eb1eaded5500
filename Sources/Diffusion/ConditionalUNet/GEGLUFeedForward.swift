import TensorCore

/// diffusers' `FeedForward` with the `geglu` activation (Shazeer 2020), the MLP of every
/// `BasicTransformerBlock` in Stable Diffusion: `ff.net.0.proj` maps `dim → 2·inner`, the first
/// half is gated by GELU of the second, and `ff.net.2` maps `inner → dim` (`inner = 4·dim`).
struct GEGLUFeedForward {
    let proj: LinearLayer, out: LinearLayer
    let inner: Int

    init(_ b: ParameterBuilder, _ name: String, dim: Int, multiplier: Int = 4) {
        inner = dim * multiplier
        proj = LinearLayer(b, name + ".net.0.proj", in: dim, out: 2 * inner)
        out = LinearLayer(b, name + ".net.2", in: inner, out: dim)
    }

    /// `[..., dim] → [..., dim]`
    func callAsFunction(_ x: Tensor) -> Tensor {
        let halves = proj(x).split(axis: -1, sizes: [inner, inner])    // value [..., inner], gate [..., inner]
        return out(halves[0] * halves[1].gelu())
    }
}
