import TensorCore

/// Halves the resolution with a stride-2 3×3 convolution (diffusers' `Downsample2D`;
/// `padding == 0` pads one row and column at the bottom/right first, as diffusers does).
struct Downsample2D {
    let conv: Conv2dLayer
    let padding: Int

    init(_ b: ParameterBuilder, _ name: String, channels: Int, padding: Int) {
        conv = Conv2dLayer(b, name + ".conv", in: channels, out: channels, kernel: 3, stride: 2, padding: padding)
        self.padding = padding
    }

    /// `[N, C, H, W] → [N, C, H/2, W/2]`
    func callAsFunction(_ x: Tensor) -> Tensor {
        conv(padding == 0 ? x.padded([(0, 0), (0, 0), (0, 1), (0, 1)]) : x)
    }
}

/// Doubles the resolution: nearest-neighbour ×2 then a 3×3 convolution (diffusers' `Upsample2D`).
struct Upsample2D {
    let conv: Conv2dLayer

    init(_ b: ParameterBuilder, _ name: String, channels: Int) {
        conv = Conv2dLayer(b, name + ".conv", in: channels, out: channels, kernel: 3, padding: 1)
    }

    /// `[N, C, H, W] → [N, C, 2H, 2W]`
    func callAsFunction(_ x: Tensor) -> Tensor { conv(x.upsampleNearest2x()) }
}

/// `DownBlock2D` / `AttnDownBlock2D`: resnets (each optionally followed by attention), then an
/// optional downsampler. Returns the output and every intermediate state for the skips.
struct DownBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [AttentionBlock]
    let downsampler: Downsample2D?

    init(_ b: ParameterBuilder, _ name: String, type: String, layers: Int, in cin: Int, out cout: Int,
         config c: UNet2DConfig, addDownsample: Bool) {
        resnets = (0..<layers).map { i in
            ResnetBlock2D(b, "\(name).resnets.\(i)", in: i == 0 ? cin : cout, out: cout,
                          tembChannels: c.timeEmbedDim, groups: c.normNumGroups, eps: c.normEps)
        }
        attentions = type == "AttnDownBlock2D" ? (0..<layers).map { i in
            AttentionBlock(b, "\(name).attentions.\(i)", channels: cout, headDim: c.attentionHeadDim,
                           groups: c.normNumGroups, eps: c.normEps, viewGroup: c.viewGroup)
        } : []
        downsampler = addDownsample ? Downsample2D(b, name + ".downsamplers.0", channels: cout, padding: c.downsamplePadding) : nil
    }

    func callAsFunction(_ x: Tensor, _ temb: Tensor) -> (Tensor, [Tensor]) {
        var h = x
        var states: [Tensor] = []
        for (i, resnet) in resnets.enumerated() {
            h = resnet(h, temb)
            if !attentions.isEmpty { h = attentions[i](h) }
            states.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            states.append(h)
        }
        return (h, states)
    }
}

/// `UpBlock2D` / `AttnUpBlock2D`: each resnet takes the previous output concatenated with one
/// skip state (last first), optionally followed by attention; then an optional upsampler.
struct UpBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [AttentionBlock]
    let upsampler: Upsample2D?

    init(_ b: ParameterBuilder, _ name: String, type: String, layers: Int, in cin: Int, out cout: Int,
         prevOut: Int, config c: UNet2DConfig, addUpsample: Bool) {
        resnets = (0..<layers).map { i in
            let skip = i == layers - 1 ? cin : cout
            let resIn = i == 0 ? prevOut : cout
            return ResnetBlock2D(b, "\(name).resnets.\(i)", in: resIn + skip, out: cout,
                                 tembChannels: c.timeEmbedDim, groups: c.normNumGroups, eps: c.normEps)
        }
        attentions = type == "AttnUpBlock2D" ? (0..<layers).map { i in
            AttentionBlock(b, "\(name).attentions.\(i)", channels: cout, headDim: c.attentionHeadDim,
                           groups: c.normNumGroups, eps: c.normEps, viewGroup: c.viewGroup)
        } : []
        upsampler = addUpsample ? Upsample2D(b, name + ".upsamplers.0", channels: cout) : nil
    }

    func callAsFunction(_ x: Tensor, _ skips: inout [Tensor], _ temb: Tensor) -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            h = resnet(Tensor.concat([h, skips.removeLast()], axis: 1), temb)
            if !attentions.isEmpty { h = attentions[i](h) }
        }
        if let upsampler { h = upsampler(h) }
        return h
    }
}

/// `UNetMidBlock2D`: resnet, attention, resnet at the lowest resolution.
struct MidBlock {
    let resnets: [ResnetBlock2D]
    let attention: AttentionBlock?

    init(_ b: ParameterBuilder, _ name: String, channels: Int, config c: UNet2DConfig) {
        let make = { (i: Int) in
            ResnetBlock2D(b, "\(name).resnets.\(i)", in: channels, out: channels, tembChannels: c.timeEmbedDim,
                          groups: c.normNumGroups, eps: c.normEps, outputScaleFactor: c.midBlockScaleFactor)
        }
        let first = make(0)
        attention = c.addAttention
            ? AttentionBlock(b, name + ".attentions.0", channels: channels, headDim: c.attentionHeadDim ?? channels,
                             groups: c.attnNormNumGroups ?? c.normNumGroups, eps: c.normEps,
                             rescaleOutputFactor: c.midBlockScaleFactor, viewGroup: c.viewGroup)
            : nil
        resnets = [first, make(1)]
    }

    func callAsFunction(_ x: Tensor, _ temb: Tensor) -> Tensor {
        var h = resnets[0](x, temb)
        if let attention { h = attention(h) }
        return resnets[1](h, temb)
    }
}
