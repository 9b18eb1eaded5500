import TensorCore

/// diffusers' VAE `Encoder`: `conv_in`, one ``EncoderDownBlock`` per level, the mid block, then
/// group norm, SiLU and `conv_out` to `2·latent` channels (the posterior's mean and log-variance).
struct AutoencoderEncoder {
    let convIn: Conv2dLayer
    let downBlocks: [EncoderDownBlock]
    let midBlock: AutoencoderMidBlock
    let convNormOut: GroupNormLayer
    let convOut: Conv2dLayer

    init(_ b: ParameterBuilder, _ name: String, config c: AutoencoderKLConfig) {
        let ch = c.blockOutChannels, g = c.normNumGroups
        convIn = Conv2dLayer(b, name + ".conv_in", in: c.inChannels, out: ch[0], kernel: 3, padding: 1)
        downBlocks = ch.indices.map { i in
            EncoderDownBlock(b, "\(name).down_blocks.\(i)", layers: c.layersPerBlock, in: ch[Swift.max(i - 1, 0)], out: ch[i],
                             groups: g, addDownsample: i < ch.count - 1)
        }
        midBlock = AutoencoderMidBlock(b, name + ".mid_block", channels: ch[ch.count - 1], groups: g, attention: c.midBlockAddAttention)
        convNormOut = GroupNormLayer(b, name + ".conv_norm_out", groups: g, channels: ch[ch.count - 1], eps: autoencoderNormEps)
        convOut = Conv2dLayer(b, name + ".conv_out", in: ch[ch.count - 1], out: 2 * c.latentChannels, kernel: 3, padding: 1)
    }

    /// images `[N, in, H, W]` → moments `[N, 2·latent, H/f, W/f]` with `f = 2^(levels − 1)`
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = convIn(x)
        for block in downBlocks { h = block(h) }
        h = midBlock(h)
        return convOut(convNormOut(h).silu())
    }
}

/// diffusers' VAE `Decoder` (group norm kind): `conv_in` to the widest channels, the mid block,
/// one ``DecoderUpBlock`` per level (widest first, `layers_per_block + 1` resnets each), then group
/// norm, SiLU and `conv_out`.
struct AutoencoderDecoder {
    let convIn: Conv2dLayer
    let midBlock: AutoencoderMidBlock
    let upBlocks: [DecoderUpBlock]
    let convNormOut: GroupNormLayer
    let convOut: Conv2dLayer

    init(_ b: ParameterBuilder, _ name: String, config c: AutoencoderKLConfig) {
        let rev = Array(c.blockOutChannels.reversed()), g = c.normNumGroups
        convIn = Conv2dLayer(b, name + ".conv_in", in: c.latentChannels, out: rev[0], kernel: 3, padding: 1)
        midBlock = AutoencoderMidBlock(b, name + ".mid_block", channels: rev[0], groups: g, attention: c.midBlockAddAttention)
        upBlocks = rev.indices.map { i in
            DecoderUpBlock(b, "\(name).up_blocks.\(i)", layers: c.layersPerBlock + 1, in: rev[Swift.max(i - 1, 0)], out: rev[i],
                           groups: g, addUpsample: i < rev.count - 1)
        }
        convNormOut = GroupNormLayer(b, name + ".conv_norm_out", groups: g, channels: rev[rev.count - 1], eps: autoencoderNormEps)
        convOut = Conv2dLayer(b, name + ".conv_out", in: rev[rev.count - 1], out: c.outChannels, kernel: 3, padding: 1)
    }

    /// latents `[N, latent, h, w]` → images `[N, out, h·f, w·f]` with `f = 2^(levels − 1)`
    func callAsFunction(_ z: Tensor) -> Tensor {
        var h = midBlock(convIn(z))
        for block in upBlocks { h = block(h) }
        return convOut(convNormOut(h).silu())
    }
}
