import TensorCore

/// diffusers' `ResnetBlock2D` ("default" time-embedding norm, SiLU, no dropout at use):
/// `out = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + proj(silu(temb)))))`.
/// With `tembChannels: nil` (the VAE's blocks) there is no `time_emb_proj` and no time term.
struct ResnetBlock2D {
    let norm1: GroupNormLayer, conv1: Conv2dLayer
    let timeEmbProj: LinearLayer?
    let norm2: GroupNormLayer, conv2: Conv2dLayer
    let shortcut: Conv2dLayer?
    let outputScaleFactor: Float

    init(_ b: ParameterBuilder, _ name: String, in cin: Int, out cout: Int, tembChannels: Int?,
         groups: Int, eps: Float, outputScaleFactor: Float = 1) {
        norm1 = GroupNormLayer(b, name + ".norm1", groups: groups, channels: cin, eps: eps)
        conv1 = Conv2dLayer(b, name + ".conv1", in: cin, out: cout, kernel: 3, padding: 1)
        timeEmbProj = tembChannels.map { LinearLayer(b, name + ".time_emb_proj", in: $0, out: cout) }
        norm2 = GroupNormLayer(b, name + ".norm2", groups: groups, channels: cout, eps: eps)
        conv2 = Conv2dLayer(b, name + ".conv2", in: cout, out: cout, kernel: 3, padding: 1)
        shortcut = cin != cout ? Conv2dLayer(b, name + ".conv_shortcut", in: cin, out: cout, kernel: 1) : nil
        self.outputScaleFactor = outputScaleFactor
    }

    /// x `[N, in, H, W]`, temb `[N, T]` (nil without a time embedding) → `[N, out, H, W]`
    func callAsFunction(_ x: Tensor, _ temb: Tensor?) -> Tensor {
        var h = conv1(norm1.silu(x))
        if let timeEmbProj, let temb {
            let t = timeEmbProj(temb.silu())                   // [N, out]
            h = h + t.reshaped([t.shape[0], t.shape[1], 1, 1])
        }
        h = conv2(norm2.silu(h))
        let skip = shortcut.map { $0(x) } ?? x
        let out = skip + h
        return outputScaleFactor == 1 ? out : out.scaled(by: 1 / outputScaleFactor)
    }
}
