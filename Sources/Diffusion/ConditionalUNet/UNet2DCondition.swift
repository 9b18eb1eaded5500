import Foundation
import SafeTensors
import TensorCore

/// A UNet architecture-compatible with diffusers' `UNet2DConditionModel`, the denoiser of Stable
/// Diffusion 1.x and 2.x: the pixel ``UNet2D``'s resnets and time embedding, with `Transformer2D`
/// blocks (self-attention, cross-attention on the text encoder's states, GEGLU feed-forward) in
/// the cross-attention down, mid and up blocks. Parameter names are diffusers' state-dict keys,
/// so a `unet/` folder saved by diffusers loads unchanged. Every op is on the tape: the output
/// has gradients with respect to the latents, the text states and the weights.
///
/// It predicts what it was trained to (ε for SD 1.x and SD 2 base, v for SD 2.x 768): for a
/// ``Denoiser``, fix its text states with ``conditioned(on:)`` and wrap that in a ``DDPMDenoiser``.
///
/// ```swift
/// let unet = try UNet2DCondition(contentsOf: pipeline.appendingPathComponent("unet"))
/// let states = try CLIPTextModel(contentsOf: pipeline.appendingPathComponent("text_encoder")).encode([ids])   // [1, 77, 768]
/// let eps = unet.predict(latents, timesteps: [981], encoderHiddenStates: states)   // latents [1, 4, 64, 64]
/// ```
public final class UNet2DCondition: @unchecked Sendable {
    public let config: UNet2DConditionConfig
    /// Every trainable tensor under its diffusers name.
    public let parameters: Parameters

    let convIn: Conv2dLayer
    let timeLinear1: LinearLayer, timeLinear2: LinearLayer
    let downBlocks: [ConditionalDownBlock]
    let midBlock: ConditionalMidBlock?
    let upBlocks: [ConditionalUpBlock]
    let convNormOut: GroupNormLayer
    let convOut: Conv2dLayer

    /// A randomly initialised UNet (PyTorch's default initialisation, seeded).
    public convenience init(config c: UNet2DConditionConfig, seed: UInt64 = 0) {
        self.init(config: c, builder: ParameterBuilder(seed: seed))
    }

    /// Every parameter's name and shape for `config`, without allocating the weights
    /// (checks a full-size architecture against diffusers' state dict).
    static func parameterShapes(_ config: UNet2DConditionConfig) -> [String: [Int]] {
        let b = ParameterBuilder(fill: .shapesOnly)
        _ = UNet2DCondition(config: config, builder: b)
        return b.shapes
    }

    /// The architecture with `b`'s tensors (random, or placeholders for loaded weights).
    init(config c: UNet2DConditionConfig, builder b: ParameterBuilder) {
        config = c
        let ch = c.blockOutChannels
        convIn = Conv2dLayer(b, "conv_in", in: c.inChannels, out: ch[0], kernel: c.convInKernel, padding: (c.convInKernel - 1) / 2)
        timeLinear1 = LinearLayer(b, "time_embedding.linear_1", in: ch[0], out: c.timeEmbedDim)
        timeLinear2 = LinearLayer(b, "time_embedding.linear_2", in: c.timeEmbedDim, out: c.timeEmbedDim)

        var downs: [ConditionalDownBlock] = []
        var outCh = ch[0]
        for i in ch.indices {
            let inCh = outCh
            outCh = ch[i]
            downs.append(ConditionalDownBlock(b, "down_blocks.\(i)", index: i, in: inCh, out: outCh, config: c,
                                              addDownsample: i < ch.count - 1))
        }
        downBlocks = downs
        midBlock = c.midBlockType.map { type in
            ConditionalMidBlock(b, "mid_block", channels: ch[ch.count - 1], config: c, crossAttention: type == "UNetMidBlock2DCrossAttn")
        }

        var ups: [ConditionalUpBlock] = []
        let rev = Array(ch.reversed())
        outCh = rev[0]
        for i in rev.indices {
            let prevOut = outCh
            outCh = rev[i]
            let inCh = rev[Swift.min(i + 1, rev.count - 1)]
            ups.append(ConditionalUpBlock(b, "up_blocks.\(i)", index: i, in: inCh, out: outCh, prevOut: prevOut, config: c,
                                          addUpsample: i < rev.count - 1))
        }
        upBlocks = ups
        convNormOut = GroupNormLayer(b, "conv_norm_out", groups: c.normNumGroups, channels: ch[0], eps: c.normEps)
        convOut = Conv2dLayer(b, "conv_out", in: ch[0], out: c.outChannels, kernel: c.convOutKernel, padding: (c.convOutKernel - 1) / 2)
        parameters = b.parameters
    }

    /// diffusers' `UNet2DConditionModel.forward(...).sample`: latents `x [B, in, H, W]`, one
    /// (fractional) timestep per item, and the text encoder's `encoderHiddenStates [B, L, D]`
    /// (`[1, L, D]` is shared by every item) with `D` the config's `cross_attention_dim`.
    /// `H` and `W` must be divisible by 2^(levels − 1). Returns `[B, out, H, W]`.
    ///
    /// ```swift
    /// let out = unet.predict(latents, timesteps: [999, 999], encoderHiddenStates: states)   // latents [2, 4, 64, 64], states [2, 77, 768]
    /// ```
    public func predict(_ x: Tensor, timesteps: [Float], encoderHiddenStates states: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == config.inChannels,
                     "UNet2DCondition expects [B, \(config.inChannels), H, W], got \(x.shape)")
        let batch = x.shape[0]
        precondition(timesteps.count == batch, "one timestep per batch item: \(timesteps.count) for \(batch)")
        let levels = config.blockOutChannels.count - 1
        precondition(x.shape[2] % (1 << levels) == 0 && x.shape[3] % (1 << levels) == 0,
                     "UNet2DCondition needs H and W divisible by \(1 << levels), got \(x.shape)")
        precondition(states.rank == 3 && (states.shape[0] == batch || states.shape[0] == 1),
                     "encoder hidden states must be [\(batch) or 1, L, D], got \(states.shape)")
        precondition(Set(config.crossAttentionDim) == [states.shape[2]],
                     "encoder hidden states have \(states.shape[2]) features, the config's cross_attention_dim is \(config.crossAttentionDim)")
        let context = states.shape[0] == batch ? states : states.expanded(to: [batch, states.shape[1], states.shape[2]])   // [B, L, D]
        let sample = config.centerInputSample ? x.scaled(by: 2).shifted(by: -1) : x

        let features = timestepFeatures(timesteps, dim: config.blockOutChannels[0],
                                        flipSinToCos: config.flipSinToCos, shift: config.freqShift)
        let temb = timeLinear2(timeLinear1(features).silu())                   // [B, T]

        var h = convIn(sample)
        var skips = [h]
        for block in downBlocks {
            let (out, states) = block(h, temb, context)
            h = out
            skips.append(contentsOf: states)
        }
        if let midBlock { h = midBlock(h, temb, context) }
        for block in upBlocks { h = block(h, &skips, temb, context) }
        return convOut(convNormOut(h).silu())
    }

    /// A ``NoisePredictionNetwork`` that always reads `encoderHiddenStates` (`[1, L, D]` for
    /// every item, or `[B, L, D]` for a batch of exactly `B`), so ``DDPMDenoiser`` handles ε- and
    /// v-prediction as for any network.
    ///
    /// ```swift
    /// let denoiser = DDPMDenoiser(network: unet.conditioned(on: states), schedule: schedule)   // schedule: scheduler_config.json
    /// let x0 = denoiser.denoise(x, sigma: 3, condition: nil)
    /// ```
    public func conditioned(on encoderHiddenStates: Tensor) -> TextConditionedUNet {
        TextConditionedUNet(unet: self, encoderHiddenStates: encoderHiddenStates)
    }
}

/// A ``UNet2DCondition`` with default text states: a ``NoisePredictionNetwork`` (made by
/// ``UNet2DCondition/conditioned(on:)``). Items whose ``DenoiserCondition`` carries a
/// ``DenoiserCondition/text`` are told that prompt instead, so one call can mix prompts (the
/// conditional and unconditional halves of guidance, as ``GuidedDenoiser`` batches them). It has
/// no class embedding: class labels must be `nil`.
///
/// ```swift
/// let network = unet.conditioned(on: emptyPrompt.states)          // [L, D] or [1, L, D]
/// let eps = network.predict(x, timesteps: [981, 981],             // x [2, 4, 64, 64]
///                           conditions: [DenoiserCondition(text: cat), DenoiserCondition()])   // "cat", then the default
/// ```
public struct TextConditionedUNet: NoisePredictionNetwork, @unchecked Sendable {
    public let unet: UNet2DCondition
    /// The default states: `[1, L, D]` (or `[L, D]`) for every item, or `[B, L, D]` for a batch of exactly `B`.
    public let encoderHiddenStates: Tensor

    public func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor {
        precondition(classLabels == nil, "a text-conditioned UNet takes no class labels")
        return unet.predict(x, timesteps: timesteps, encoderHiddenStates: defaultStates)
    }

    /// Each item with its own text, or the default states where it has none; one UNet call.
    public func predict(_ x: Tensor, timesteps: [Float], conditions: [DenoiserCondition]?) -> Tensor {
        guard let conditions, conditions.contains(where: { $0.text != nil }) else {
            return predict(x, timesteps: timesteps, classLabels: DenoiserCondition.classLabels(of: conditions))
        }
        precondition(conditions.count == x.shape[0], "\(conditions.count) conditions for a batch of \(x.shape[0])")
        precondition(conditions.allSatisfy { $0.classLabel == nil }, "a text-conditioned UNet takes no class labels")
        let states = defaultStates
        precondition(states.shape[0] == 1 || conditions.allSatisfy { $0.text != nil },
                     "items without text need one default text state, have \(states.shape)")
        let fallback = states.shape[0] == 1 ? TextEmbedding(states: states) : nil
        let texts = conditions.map { $0.text ?? fallback! }
        return unet.predict(x, timesteps: timesteps, encoderHiddenStates: TextEmbedding.batch(texts))   // states [B or 1, L, D]
    }

    /// ``encoderHiddenStates`` as `[1 or B, L, D]`.
    var defaultStates: Tensor {
        encoderHiddenStates.rank == 2 ? encoderHiddenStates.reshaped([1] + encoderHiddenStates.shape) : encoderHiddenStates
    }
}
