import TensorCore

// The VAE's blocks: the pixel UNet's resnets (without a time embedding), down/upsamplers and
// spatial attention, arranged as diffusers' DownEncoderBlock2D, UpDecoderBlock2D and
// UNetMidBlock2D (temb_channels=None). Every norm has ε = 1e-6, as diffusers' VAE sets.

/// The VAE's norm ε (diffusers' `resnet_eps` for every encoder and decoder block).
let autoencoderNormEps: Float = 1e-6

/// diffusers' `DownEncoderBlock2D`: `layers` resnets, then (but at the last level) a stride-2
/// downsampler that pads one row and column at the bottom/right.
struct EncoderDownBlock {
    let resnets: [ResnetBlock2D]
    let downsampler: Downsample2D?

    init(_ b: ParameterBuilder, _ name: String, layers: Int, in cin: Int, out cout: Int, groups: Int, addDownsample: Bool) {
        resnets = (0..<layers).map { i in
            ResnetBlock2D(b, "\(name).resnets.\(i)", in: i == 0 ? cin : cout, out: cout, tembChannels: nil,
                          groups: groups, eps: autoencoderNormEps)
        }
        downsampler = addDownsample ? Downsample2D(b, name + ".downsamplers.0", channels: cout, padding: 0) : nil
    }

    /// `[N, in, H, W] → [N, out, H/2, W/2]` (`[N, out, H, W]` without a downsampler)
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for resnet in resnets { h = resnet(h, nil) }
        return downsampler.map { $0(h) } ?? h
    }
}

/// diffusers' `UpDecoderBlock2D`: `layers` resnets (no skip connections), then (but at the last
/// level) a nearest ×2 upsampler with a 3×3 convolution.
struct DecoderUpBlock {
    let resnets: [ResnetBlock2D]
    let upsampler: Upsample2D?

    init(_ b: ParameterBuilder, _ name: String, layers: Int, in cin: Int, out cout: Int, groups: Int, addUpsample: Bool) {
        resnets = (0..<layers).map { i in
            ResnetBlock2D(b, "\(name).resnets.\(i)", in: i == 0 ? cin : cout, out: cout, tembChannels: nil,
                          groups: groups, eps: autoencoderNormEps)
        }
        upsampler = addUpsample ? Upsample2D(b, name + ".upsamplers.0", channels: cout) : nil
    }

    /// `[N, in, H, W] → [N, out, 2H, 2W]` (`[N, out, H, W]` without an upsampler)
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for resnet in resnets { h = resnet(h, nil) }
        return upsampler.map { $0(h) } ?? h
    }
}

/// diffusers' `UNetMidBlock2D` as the VAE builds it: resnet, single-head self-attention over all
/// positions (optional), resnet, at the lowest resolution.
struct AutoencoderMidBlock {
    let resnets: [ResnetBlock2D]
    let attention: AttentionBlock?

    init(_ b: ParameterBuilder, _ name: String, channels: Int, groups: Int, attention hasAttention: Bool) {
        let first = ResnetBlock2D(b, name + ".resnets.0", in: channels, out: channels, tembChannels: nil,
                                  groups: groups, eps: autoencoderNormEps)
        attention = hasAttention
            ? AttentionBlock(b, name + ".attentions.0", channels: channels, headDim: channels, groups: groups, eps: autoencoderNormEps)
            : nil
        resnets = [first, ResnetBlock2D(b, name + ".resnets.1", in: channels, out: channels, tembChannels: nil,
                                        groups: groups, eps: autoencoderNormEps)]
    }

    /// `[N, C, H, W] → [N, C, H, W]`
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = resnets[0](x, nil)
        if let attention { h = attention(h) }
        return resnets[1](h, nil)
    }
}
