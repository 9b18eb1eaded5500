import Foundation
import JSON
import SafeTensors

/// The `config.json` of a diffusers `AutoencoderKL` (a Stable Diffusion `vae/` folder) as
/// ``AutoencoderKL`` implements it. Keys and defaults are diffusers' own. `sample_size` and
/// `force_upcast` are accepted and ignored (they only steer tiling and half-precision pipelines;
/// this package always computes in float32). Any other key, or a value outside what is
/// implemented (`act_fn` other than `silu`, other block types, `latents_mean`/`latents_std`), is
/// an error that names the file and the key.
///
/// ```swift
/// let config = try AutoencoderKLConfig(contentsOf: vae.appendingPathComponent("config.json"))
/// config.scalingFactor   // 0.18215 for SD 1.x/2.x
/// ```
public struct AutoencoderKLConfig: Equatable, Sendable {
    public var inChannels: Int = 3
    public var outChannels: Int = 3
    /// One per level; all `DownEncoderBlock2D`.
    public var downBlockTypes: [String] = ["DownEncoderBlock2D"]
    /// One per level; all `UpDecoderBlock2D`.
    public var upBlockTypes: [String] = ["UpDecoderBlock2D"]
    public var blockOutChannels: [Int] = [64]
    /// Resnets per encoder block (the decoder's blocks have one more).
    public var layersPerBlock: Int = 1
    public var latentChannels: Int = 4
    public var normNumGroups: Int = 32
    /// Latents the UNet sees are `(z − shiftFactor) · scalingFactor`.
    public var scalingFactor: Float = 0.18215
    /// SD 3 / Flux style shift (nil: none).
    public var shiftFactor: Float? = nil
    /// The 1×1 `quant_conv` after the encoder.
    public var useQuantConv: Bool = true
    /// The 1×1 `post_quant_conv` before the decoder.
    public var usePostQuantConv: Bool = true
    /// The self-attention in the encoder's and decoder's mid blocks.
    public var midBlockAddAttention: Bool = true

    public init() {}

    /// Bounds that only keep a typo from asking for terabytes.
    public enum Limits {
        public static let channels = 1...65_536
        public static let levels = 1...16
        public static let layers = 1...64
    }

    /// Reads and validates a diffusers `config.json`.
    public init(contentsOf url: URL) throws {
        try self.init(json: try ConfigReader<VAEConfigKind>.data(contentsOf: url), source: url.path)
    }

    /// Parses a config from JSON bytes (`source` names it in errors).
    ///
    /// ```swift
    /// _ = try AutoencoderKLConfig(json: Data(#"{"act_fn": "relu"}"#.utf8), source: "vae/config.json")
    /// // throws AutoencoderKLConfigError.unsupported("vae/config.json", key: "act_fn", value: "relu")
    /// ```
    public init(json data: Data, source: String = "config.json") throws {
        var r = try ConfigReader<VAEConfigKind>(json: data, source: source)
        try r.expectClass("AutoencoderKL")
        inChannels = try r.int("in_channels", default: 3, in: Limits.channels)
        outChannels = try r.int("out_channels", default: 3, in: Limits.channels)
        blockOutChannels = try r.ints("block_out_channels", default: [64], in: Limits.channels)
        downBlockTypes = try r.strings("down_block_types", default: ["DownEncoderBlock2D"])
        upBlockTypes = try r.strings("up_block_types", default: ["UpDecoderBlock2D"])
        layersPerBlock = try r.int("layers_per_block", default: 1, in: Limits.layers)
        try r.expect("act_fn", "silu")
        latentChannels = try r.int("latent_channels", default: 4, in: Limits.channels)
        normNumGroups = try r.int("norm_num_groups", default: 32, in: Limits.channels)
        scalingFactor = try r.float("scaling_factor", default: 0.18215)
        if let v = r.peek("shift_factor"), v != .null {
            shiftFactor = try r.float("shift_factor", default: 0)
        } else {
            r.markRead("shift_factor")
        }
        try r.expectNull("latents_mean")
        try r.expectNull("latents_std")
        _ = try r.bool("force_upcast", default: true)
        useQuantConv = try r.bool("use_quant_conv", default: true)
        usePostQuantConv = try r.bool("use_post_quant_conv", default: true)
        midBlockAddAttention = try r.bool("mid_block_add_attention", default: true)
        r.markRead("sample_size")
        try r.finish()
        try validate(source: source)
    }

    /// Checks block types, list lengths, group divisibility and the scaling factor.
    public func validate(source: String = "config") throws {
        typealias E = AutoencoderKLConfigError
        if !Limits.levels.contains(blockOutChannels.count) {
            throw E.outOfRange(source, key: "block_out_channels", value: "\(blockOutChannels.count) entries",
                               allowed: E.text(Limits.levels))
        }
        if let (i, t) = downBlockTypes.enumerated().first(where: { $0.element != "DownEncoderBlock2D" }) {
            throw E.unsupported(source, key: "down_block_types[\(i)]", value: t)
        }
        if let (i, t) = upBlockTypes.enumerated().first(where: { $0.element != "UpDecoderBlock2D" }) {
            throw E.unsupported(source, key: "up_block_types[\(i)]", value: t)
        }
        for (key, n) in [("down_block_types", downBlockTypes.count), ("up_block_types", upBlockTypes.count)]
        where n != blockOutChannels.count {
            throw E.inconsistent(source, "\(key) has \(n) entries, block_out_channels has \(blockOutChannels.count)")
        }
        if let (i, c) = blockOutChannels.enumerated().first(where: { $0.element % normNumGroups != 0 }) {
            throw E.inconsistent(source, "block_out_channels[\(i)] = \(c) is not divisible by norm_num_groups = \(normNumGroups)")
        }
        if !(scalingFactor.isFinite && scalingFactor > 0) {
            throw E.outOfRange(source, key: "scaling_factor", value: "\(scalingFactor)", allowed: "a finite number > 0")
        }
        if let s = shiftFactor, !s.isFinite {
            throw E.outOfRange(source, key: "shift_factor", value: "\(s)", allowed: "a finite number")
        }
    }
}
