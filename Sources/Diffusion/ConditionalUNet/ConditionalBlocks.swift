import TensorCore

// The down, mid and up blocks of a ``UNet2DCondition``: the pixel UNet's resnets, down- and
// upsamplers, with a `Transformer2D` after each resnet in the cross-attention kinds.

/// `CrossAttnDownBlock2D` (each resnet followed by a transformer reading the text states) or
/// `DownBlock2D` (resnets only), then an optional downsampler. Returns the output and every
/// intermediate state for the skips.
struct ConditionalDownBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let downsampler: Downsample2D?

    init(_ b: ParameterBuilder, _ name: String, index i: Int, in cin: Int, out cout: Int,
         config c: UNet2DConditionConfig, addDownsample: Bool) {
        let layers = c.layersPerBlock[i]
        resnets = (0..<layers).map { j in
            ResnetBlock2D(b, "\(name).resnets.\(j)", in: j == 0 ? cin : cout, out: cout,
                          tembChannels: c.timeEmbedDim, groups: c.normNumGroups, eps: c.normEps)
        }
        attentions = c.downBlockTypes[i] == "CrossAttnDownBlock2D" ? (0..<layers).map { j in
            Transformer2D(b, "\(name).attentions.\(j)", channels: cout, heads: c.attentionHeads[i],
                          layers: c.transformerLayersPerBlock[i], contextDim: c.crossAttentionDim[i],
                          groups: c.normNumGroups, linearProjection: c.useLinearProjection)
        } : []
        downsampler = addDownsample ? Downsample2D(b, name + ".downsamplers.0", channels: cout, padding: c.downsamplePadding) : nil
    }

    /// `x [N, in, H, W]`, `temb [N, T]`, `context [N, Lc, Dc]` → `([N, out, H', W'], skip states)`
    func callAsFunction(_ x: Tensor, _ temb: Tensor, _ context: Tensor) -> (Tensor, [Tensor]) {
        var h = x
        var states: [Tensor] = []
        for (j, resnet) in resnets.enumerated() {
            h = resnet(h, temb)
            if !attentions.isEmpty { h = attentions[j](h, context: context) }
            states.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            states.append(h)
        }
        return (h, states)
    }
}

/// `CrossAttnUpBlock2D` / `UpBlock2D`: each resnet takes the previous output concatenated with
/// one skip state (last first), optionally followed by a transformer; then an optional upsampler.
/// `index` counts up blocks from the lowest resolution; per-block lists are read reversed.
struct ConditionalUpBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let upsampler: Upsample2D?

    init(_ b: ParameterBuilder, _ name: String, index i: Int, in cin: Int, out cout: Int, prevOut: Int,
         config c: UNet2DConditionConfig, addUpsample: Bool) {
        let r = c.blockOutChannels.count - 1 - i                                // the matching down block
        let layers = c.layersPerBlock[r] + 1
        resnets = (0..<layers).map { j in
            let skip = j == layers - 1 ? cin : cout
            let resIn = j == 0 ? prevOut : cout
            return ResnetBlock2D(b, "\(name).resnets.\(j)", in: resIn + skip, out: cout,
                                 tembChannels: c.timeEmbedDim, groups: c.normNumGroups, eps: c.normEps)
        }
        attentions = c.upBlockTypes[i] == "CrossAttnUpBlock2D" ? (0..<layers).map { j in
            Transformer2D(b, "\(name).attentions.\(j)", channels: cout, heads: c.attentionHeads[r],
                          layers: c.transformerLayersPerBlock[r], contextDim: c.crossAttentionDim[r],
                          groups: c.normNumGroups, linearProjection: c.useLinearProjection)
        } : []
        upsampler = addUpsample ? Upsample2D(b, name + ".upsamplers.0", channels: cout) : nil
    }

    /// `x [N, prevOut, H, W]`, skips popped from the end, `temb [N, T]`, `context [N, Lc, Dc]` → `[N, out, H', W']`
    func callAsFunction(_ x: Tensor, _ skips: inout [Tensor], _ temb: Tensor, _ context: Tensor) -> Tensor {
        var h = x
        for (j, resnet) in resnets.enumerated() {
            h = resnet(Tensor.concat([h, skips.removeLast()], axis: 1), temb)
            if !attentions.isEmpty { h = attentions[j](h, context: context) }
        }
        if let upsampler { h = upsampler(h) }
        return h
    }
}

/// `UNetMidBlock2DCrossAttn` (resnet, transformer, resnet) or, for `mid_block_type`
/// `UNetMidBlock2D` in a conditional UNet, one resnet alone (diffusers builds it with no layers).
struct ConditionalMidBlock {
    let resnets: [ResnetBlock2D]
    let attention: Transformer2D?

    init(_ b: ParameterBuilder, _ name: String, channels: Int, config c: UNet2DConditionConfig, crossAttention: Bool) {
        let last = c.blockOutChannels.count - 1
        let make = { (j: Int) in
            ResnetBlock2D(b, "\(name).resnets.\(j)", in: channels, out: channels, tembChannels: c.timeEmbedDim,
                          groups: c.normNumGroups, eps: c.normEps, outputScaleFactor: c.midBlockScaleFactor)
        }
        let first = make(0)
        attention = crossAttention
            ? Transformer2D(b, name + ".attentions.0", channels: channels, heads: c.attentionHeads[last],
                            layers: c.transformerLayersPerBlock[last], contextDim: c.crossAttentionDim[last],
                            groups: c.normNumGroups, linearProjection: c.useLinearProjection)
            : nil
        resnets = crossAttention ? [first, make(1)] : [first]
    }

    /// `x [N, C, H, W]`, `temb [N, T]`, `context [N, Lc, Dc]` → `[N, C, H, W]`
    func callAsFunction(_ x: Tensor, _ temb: Tensor, _ context: Tensor) -> Tensor {
        var h = resnets[0](x, temb)
        if let attention { h = resnets[1](attention(h, context: context), temb) }
        return h
    }
}
