import Foundation
import SafeTensors
import TensorCore

/// A UNet architecture-compatible with diffusers' `UNet2DModel`: parameter names are exactly
/// diffusers' state-dict keys, so a folder saved by diffusers (`config.json` +
/// `diffusion_pytorch_model.safetensors`) loads unchanged, and a folder saved here loads in diffusers.
/// It predicts whatever its training target was (ε for DDPM models); wrap it in a
/// ``DDPMDenoiser`` to get a ``Denoiser``.
///
/// ```swift
/// let unet = try UNet2D(contentsOf: URL(fileURLWithPath: "Assets/toys-unet"))
/// let eps = unet.predict(x, timesteps: [500, 500], classLabels: nil)   // x [2, 3, 32, 32]
/// ```
public final class UNet2D: NoisePredictionNetwork, @unchecked Sendable {
    public let config: UNet2DConfig
    /// Every trainable tensor under its diffusers name.
    public let parameters: Parameters

    let convIn: Conv2dLayer
    let timeLinear1: LinearLayer, timeLinear2: LinearLayer
    let classEmbedding: Tensor?
    let downBlocks: [DownBlock]
    let midBlock: MidBlock
    let upBlocks: [UpBlock]
    let convNormOut: GroupNormLayer
    let convOut: Conv2dLayer

    /// A randomly initialised UNet (PyTorch's default initialisation, seeded).
    public init(config c: UNet2DConfig, seed: UInt64 = 0) {
        config = c
        let b = ParameterBuilder(seed: seed)
        let ch = c.blockOutChannels
        convIn = Conv2dLayer(b, "conv_in", in: c.inChannels, out: ch[0], kernel: 3, padding: 1)
        timeLinear1 = LinearLayer(b, "time_embedding.linear_1", in: ch[0], out: c.timeEmbedDim)
        timeLinear2 = LinearLayer(b, "time_embedding.linear_2", in: c.timeEmbedDim, out: c.timeEmbedDim)
        classEmbedding = c.numClassEmbeds.map { b.normal("class_embedding.weight", [$0, c.timeEmbedDim]) }

        var downs: [DownBlock] = []
        var outCh = ch[0]
        for (i, type) in c.downBlockTypes.enumerated() {
            let inCh = outCh
            outCh = ch[i]
            downs.append(DownBlock(b, "down_blocks.\(i)", type: type, layers: c.layersPerBlock, in: inCh, out: outCh,
                                   config: c, addDownsample: i < ch.count - 1))
        }
        downBlocks = downs
        midBlock = MidBlock(b, "mid_block", channels: ch[ch.count - 1], config: c)

        var ups: [UpBlock] = []
        let rev = Array(ch.reversed())
        outCh = rev[0]
        for (i, type) in c.upBlockTypes.enumerated() {
            let prevOut = outCh
            outCh = rev[i]
            let inCh = rev[Swift.min(i + 1, rev.count - 1)]
            ups.append(UpBlock(b, "up_blocks.\(i)", type: type, layers: c.layersPerBlock + 1, in: inCh, out: outCh,
                               prevOut: prevOut, config: c, addUpsample: i < rev.count - 1))
        }
        upBlocks = ups
        convNormOut = GroupNormLayer(b, "conv_norm_out", groups: c.normNumGroups, channels: ch[0], eps: c.normEps)
        convOut = Conv2dLayer(b, "conv_out", in: ch[0], out: c.outChannels, kernel: 3, padding: 1)
        parameters = b.parameters
    }

    /// Whether the network reads the camera as input planes: `in_channels = out_channels + 3`,
    /// the extra channels being ``CameraPlanes``.
    public var readsCamera: Bool { config.inChannels == config.outChannels + CameraPlanes.count }

    /// Whether the network is told the camera, by either route: input planes (``readsCamera``)
    /// or view bins folded into the class label (``UNet2DConfig/cameraBins``).
    public var isCameraAware: Bool { readsCamera || config.cameraBins != nil }

    /// The network output for the image `x [B, out, H, W]` (or the full input `[B, in, H, W]`)
    /// at one (fractional) timestep per item, with one class and camera per item (a missing
    /// class is the null class). A camera-aware network gets the cameras its way — as
    /// ``CameraPlanes`` after the image channels (zeros where a camera is `nil`), or as the view
    /// bin of its class-embedding row (``CameraBins``); other networks ignore cameras.
    /// Returns `[B, out, H, W]`.
    ///
    /// ```swift
    /// let c = [DenoiserCondition(classLabel: 0, camera: CameraPose(azimuth: 0.5, elevation: 0.2))]
    /// let eps = unet.predict(xt, timesteps: [400], conditions: c)     // xt [1, 3, 32, 32]
    /// ```
    public func predict(_ x: Tensor, timesteps: [Float], conditions: [DenoiserCondition]?) -> Tensor {
        if config.viewTiles { return predictTiles(x, timesteps: timesteps, conditions: conditions) }
        let batch = x.rank == 4 ? x.shape[0] : 0
        precondition(conditions == nil || conditions!.count == batch, "\(conditions!.count) conditions for a batch of \(batch)")
        let rows = embeddingRows(conditions, count: batch)
        guard readsCamera, x.rank == 4, x.shape[1] == config.outChannels else {
            return forward(x, timesteps: timesteps, embeddingRows: rows)
        }
        let cameras = conditions?.map(\.camera) ?? [CameraPose?](repeating: nil, count: batch)
        let planes = CameraPlanes.planes(cameras, height: x.shape[2], width: x.shape[3])   // [B, 3, H, W]
        return forward(Tensor.concat([x, planes], axis: 1), timesteps: timesteps, embeddingRows: rows)
    }

    /// The network output for `x [B, in, H, W]` at one (fractional) timestep per item, with
    /// optional class labels (required when the config has `num_class_embeds`). Returns `[B, out, H, W]`.
    /// A camera-aware network also takes the image alone (`[B, out, H, W]`): the camera is then unknown.
    public func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor {
        if config.cameraBins != nil || config.viewTiles || (readsCamera && x.rank == 4 && x.shape[1] == config.outChannels) {
            return predict(x, timesteps: timesteps, conditions: DenoiserCondition.classes(classLabels))
        }
        return forward(x, timesteps: timesteps, embeddingRows: classLabels)
    }

    /// The class-embedding row of each of `count` items (a missing class is the null class; with
    /// ``UNet2DConfig/cameraBins``, the row of the item's view bin), or `nil` for a network
    /// without class embeddings.
    func embeddingRows(_ conditions: [DenoiserCondition]?, count: Int) -> [Int]? {
        guard config.numClassEmbeds != nil else { return nil }
        let nullClass = config.nullClass ?? 0
        let items = conditions ?? [DenoiserCondition](repeating: DenoiserCondition(), count: count)
        let labels = items.map { $0.classLabel ?? nullClass }
        precondition(labels.allSatisfy { $0 >= 0 && $0 <= nullClass }, "class labels must be in 0..<\(nullClass + 1), got \(labels)")
        return config.cameraBins.map { bins in zip(labels, items).map { bins.embeddingRow(classLabel: $0, camera: $1.camera) } } ?? labels
    }

    /// A multi-view model (``UNet2DConfig/viewTiles``): `x [n, C, 2s, 2s]`, four views per item
    /// tiled as ``QuarterTurnTiles``; each view goes through the network as a batch item of its
    /// own with the item's class and timestep and its own camera (the item's, turned a quarter
    /// turn per view), the attention layers joining the four. Returns `[n, C, 2s, 2s]`.
    func predictTiles(_ x: Tensor, timesteps: [Float], conditions: [DenoiserCondition]?) -> Tensor {
        let n = QuarterTurnTiles.viewCount, items = x.shape[0]
        precondition(conditions == nil || conditions!.count == items, "\(conditions!.count) conditions for a batch of \(items)")
        let views = QuarterTurnTiles.untile(x)                                                // [4n, C, s, s]
        let perView = conditions.map { c in c.flatMap { item in (0..<n).map { k in
            DenoiserCondition(classLabel: item.classLabel, camera: item.camera.map { QuarterTurnTiles.camera($0, view: k) })
        } } }
        let out = forward(views, timesteps: timesteps.flatMap { [Float](repeating: $0, count: n) },
                          embeddingRows: embeddingRows(perView, count: n * items))
        return QuarterTurnTiles.tile(out)
    }

    /// diffusers' `UNet2DModel.forward`: `x [B, in, H, W]`, one timestep and (for a
    /// class-conditional config) one class-embedding row per item — diffusers' `class_labels`.
    func forward(_ x: Tensor, timesteps: [Float], embeddingRows classLabels: [Int]?) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == config.inChannels,
                     "UNet2D expects [B, \(config.inChannels), H, W], got \(x.shape)")
        precondition(timesteps.count == x.shape[0], "one timestep per batch item: \(timesteps.count) for \(x.shape[0])")
        let levels = config.blockOutChannels.count - 1
        precondition(x.shape[2] % (1 << levels) == 0 && x.shape[3] % (1 << levels) == 0,
                     "UNet2D needs H and W divisible by \(1 << levels), got \(x.shape)")
        let sample = config.centerInputSample ? x.scaled(by: 2).shifted(by: -1) : x

        // Time (and class) embedding: [B, T]
        let features = timestepFeatures(timesteps, dim: config.blockOutChannels[0],
                                        flipSinToCos: config.flipSinToCos, shift: config.freqShift)
        var temb = timeLinear2(timeLinear1(features).silu())
        if let classEmbedding {
            guard let labels = classLabels else { preconditionFailure("this UNet is class-conditional: pass classLabels") }
            precondition(labels.count == x.shape[0] && labels.allSatisfy { $0 >= 0 && $0 < classEmbedding.shape[0] },
                          "class labels must be one per item in 0..<\(classEmbedding.shape[0])")
            temb = temb + classEmbedding.gather(indices: labels, axis: 0)
        }

        // Down path, keeping every state for the skip connections.
        var h = convIn(sample)
        var skips = [h]
        for block in downBlocks {
            let (out, states) = block(h, temb)
            h = out
            skips.append(contentsOf: states)
        }
        h = midBlock(h, temb)
        for block in upBlocks { h = block(h, &skips, temb) }
        return convOut(convNormOut.silu(h))
    }
}

// MARK: - Loading and saving diffusers folders

extension UNet2D {
    /// The weights file diffusers writes.
    public static let weightsFileName = "diffusion_pytorch_model.safetensors"

    /// Loads a diffusers-format folder (`config.json` + `diffusion_pytorch_model.safetensors`).
    /// Names from older diffusers checkpoints (`query`/`key`/`value`/`proj_attn`) are accepted.
    public convenience init(contentsOf folder: URL) throws {
        let config = try UNet2DConfig(contentsOf: folder.appendingPathComponent("config.json"))
        self.init(config: config, seed: 0)
        let (weights, path) = try WeightsFile.read(Self.weightsFileName, in: folder)
        try load(weights: weights, source: path)
    }

    /// Copies named tensors into the parameters; every parameter must be present with its shape,
    /// and no extra tensor may be left over.
    public func load(weights: [(name: String, tensor: Tensor)], source: String = "weights") throws {
        // Old checkpoints store attention projections as 1×1 convs or linears: same values.
        try copyWeights(weights, into: parameters, source: source, rename: currentAttentionName)
    }

    /// Writes `config.json` and the safetensors weights into `folder` (created if missing).
    public func save(to folder: URL) throws {
        try WeightsFile.write(config: config.configJSON(), parameters: parameters, as: Self.weightsFileName, in: folder)
    }
}

/// A weights file that does not fit the configured architecture.
public enum UNetLoadError: Error, CustomStringConvertible, Equatable {
    case missingWeights(String)
    case missingTensor(String, String)
    case unexpectedTensor(String, String)
    case shapeMismatch(String, String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missingWeights(f): return "no weights at '\(f)' (HINT: diffreps reads safetensors; convert a .bin checkpoint with diffusers' save_pretrained(safe_serialization=True))"
        case let .missingTensor(f, n): return "'\(f)' has no tensor '\(n)' that the config requires"
        case let .unexpectedTensor(f, n): return "'\(f)' has a tensor '\(n)' that the config does not use (wrong config.json?)"
        case let .shapeMismatch(f, n, e, g): return "'\(f)': tensor '\(n)' has shape \(g), the config needs \(e)"
        }
    }
}
