import Foundation
import JSON
import SafeTensors

/// The subset of diffusers' `UNet2DModel` `config.json` that ``UNet2D`` implements.
/// Keys and defaults are diffusers' own; a key or value outside what is implemented is an
/// error that names it (never silently ignored).
///
/// ```swift
/// let config = try UNet2DConfig(contentsOf: folder.appendingPathComponent("config.json"))
/// let unet = UNet2D(config: config, seed: 0)
/// ```
public struct UNet2DConfig: Equatable, Sendable {
    public var sampleSize: Int = 32
    public var inChannels: Int = 3
    public var outChannels: Int = 3
    public var centerInputSample = false
    public var flipSinToCos = true
    public var freqShift: Int = 0
    public var downBlockTypes: [String] = ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"]
    public var upBlockTypes: [String] = ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"]
    public var blockOutChannels: [Int] = [224, 448, 672, 896]
    public var layersPerBlock: Int = 2
    public var midBlockScaleFactor: Float = 1
    public var downsamplePadding: Int = 1
    /// Channels per attention head; `nil` means one head spanning all channels (diffusers' rule).
    public var attentionHeadDim: Int? = 8
    public var normNumGroups: Int = 32
    public var attnNormNumGroups: Int? = nil
    public var normEps: Float = 1e-5
    public var addAttention = true
    /// Rows of the class-embedding table; `nil` = unconditional. Without ``cameraBins`` one row
    /// per class label (including the null class used for guidance).
    public var numClassEmbeds: Int? = nil
    /// View bins folded into the class label (a camera-aware model, see ``CameraBins``), or `nil`.
    public var cameraBins: CameraBins? = nil
    /// A multi-view model of ``QuarterTurnTiles`` (MVDream-style): it takes 2×2 tiles of four
    /// views, runs each tile through the network as its own view — told its own camera (the
    /// item's camera turned a quarter turn per tile) in its class row's view bin — and its
    /// attention layers attend over the four views' positions together. The weights are a plain
    /// `UNet2DModel`'s; recorded as ``QuarterTurnTiles/configKey``.
    public var viewTiles = false
    /// Views that attend to each other in the attention layers: 4 for ``viewTiles``, else 1.
    var viewGroup: Int { viewTiles ? QuarterTurnTiles.viewCount : 1 }

    public init() {}

    /// Class labels the network takes, the null class included (``numClassEmbeds`` divided by
    /// the view bins when the label carries the camera); `nil` for an unconditional network.
    public var classCount: Int? {
        guard let n = numClassEmbeds else { return nil }
        return cameraBins.map { n / ($0.count + 1) } ?? n
    }

    /// The null class of a class-conditional network (the last label), used for guidance.
    public var nullClass: Int? { classCount.map { $0 - 1 } }

    /// The width of the time embedding (`block_out_channels[0] · 4`).
    public var timeEmbedDim: Int { blockOutChannels[0] * 4 }

    static let downTypes: Set<String> = ["DownBlock2D", "AttnDownBlock2D"]
    static let upTypes: Set<String> = ["UpBlock2D", "AttnUpBlock2D"]

    /// Reads and validates a diffusers `config.json`.
    public init(contentsOf url: URL) throws {
        try self.init(json: try ConfigReader<UNetConfigKind>.data(contentsOf: url), source: url.path)
    }

    /// Parses a config from JSON bytes (`source` names it in errors). Every value is checked
    /// against ``Limits`` and the architecture's consistency (``validate(source:)``), so a
    /// config that parses cannot make ``UNet2D/init(config:seed:)`` trap.
    ///
    /// ```swift
    /// let c = try UNet2DConfig(json: Data(#"{"norm_num_groups": 0}"#.utf8), source: "m/config.json")
    /// // throws UNetConfigError.outOfRange("m/config.json", key: "norm_num_groups", value: "0", allowed: "1…8192")
    /// ```
    public init(json data: Data, source: String = "config.json") throws {
        var r = try ConfigReader<UNetConfigKind>(json: data, source: source)
        try r.expectClass("UNet2DModel")
        typealias L = Limits
        sampleSize = try r.int("sample_size", default: 32, in: L.sampleSize)
        inChannels = try r.int("in_channels", default: 3, in: L.channels)
        outChannels = try r.int("out_channels", default: 3, in: L.channels)
        centerInputSample = try r.bool("center_input_sample", default: false)
        flipSinToCos = try r.bool("flip_sin_to_cos", default: true)
        freqShift = try r.int("freq_shift", default: 0, in: L.freqShift)
        downBlockTypes = try r.strings("down_block_types", default: downBlockTypes)
        upBlockTypes = try r.strings("up_block_types", default: upBlockTypes)
        blockOutChannels = try r.ints("block_out_channels", default: blockOutChannels, in: L.channels)
        layersPerBlock = try r.int("layers_per_block", default: 2, in: L.layersPerBlock)
        midBlockScaleFactor = try r.float("mid_block_scale_factor", default: 1)
        downsamplePadding = try r.int("downsample_padding", default: 1, in: L.downsamplePadding)
        attentionHeadDim = try r.optionalInt("attention_head_dim", default: 8, in: L.channels)
        normNumGroups = try r.int("norm_num_groups", default: 32, in: L.channels)
        attnNormNumGroups = try r.optionalInt("attn_norm_num_groups", default: nil, in: L.channels)
        normEps = try r.float("norm_eps", default: 1e-5)
        addAttention = try r.bool("add_attention", default: true)
        numClassEmbeds = try r.optionalInt("num_class_embeds", default: nil, in: L.numClassEmbeds)
        if let v = r.peek(CameraBins.configKey), v != .null {
            guard case .object(let members) = v else {
                throw UNetConfigError.wrongType(source, key: CameraBins.configKey, value: v.brief,
                                                expected: "an object with azimuth_bins, elevation_bins, elevation_min_degrees, elevation_max_degrees")
            }
            let where_ = "\(source) (\(CameraBins.configKey))"
            var b = try ConfigReader<UNetConfigKind>(members: members, source: where_)
            cameraBins = CameraBins(azimuthBins: try b.int("azimuth_bins", default: 16, in: 1...360),
                                    elevationBins: try b.int("elevation_bins", default: 3, in: 1...90),
                                    elevationMinDegrees: try b.float("elevation_min_degrees", default: -10),
                                    elevationMaxDegrees: try b.float("elevation_max_degrees", default: 45))
            try b.finish()
        }
        if let v = r.peek(QuarterTurnTiles.configKey), v != .null {
            guard case .string(let text) = v, text == QuarterTurnTiles.cardValue else {
                throw UNetConfigError.wrongType(source, key: QuarterTurnTiles.configKey, value: v.brief, expected: "\"\(QuarterTurnTiles.cardValue)\"")
            }
            viewTiles = true
        }
        // Keys whose only supported value is diffusers' default.
        try r.expect("act_fn", "silu")
        try r.expect("time_embedding_type", "positional")
        try r.expect("resnet_time_scale_shift", "default")
        try r.expect("downsample_type", "conv")
        try r.expect("upsample_type", "conv")
        try r.expect("mid_block_type", "UNetMidBlock2D")
        try r.expectNull("class_embed_type")
        try r.expectNull("time_embedding_dim")
        try r.expectNull("num_train_timesteps")
        r.markRead("dropout")   // inference and our training use no dropout
        try r.finish()
        try validate(source: source)
    }

    /// The values ``validate(source:)`` accepts. Where diffusers has a rule (group and head
    /// divisibility, `downsample_padding` 0 or 1 for a 2× downsampler) it is diffusers'; the upper
    /// bounds lie far beyond any released `UNet2DModel` and only keep a typo from asking for
    /// terabytes.
    public enum Limits {
        /// `sample_size` (pixels per side).
        public static let sampleSize = 1...4096
        /// Every channel count: `in_channels`, `out_channels`, each `block_out_channels` entry,
        /// `norm_num_groups`, `attn_norm_num_groups`, `attention_head_dim`.
        public static let channels = 1...8192
        /// The number of resolution levels (`block_out_channels` entries).
        public static let levels = 1...12
        /// `layers_per_block`.
        public static let layersPerBlock = 1...16
        /// `downsample_padding`: 1 pads all sides, 0 pads bottom/right only (both halve the size).
        public static let downsamplePadding = 0...1
        /// `num_class_embeds` (classes including the null class).
        public static let numClassEmbeds = 1...100_000
        /// `freq_shift` (further limited to below half of `block_out_channels[0]`).
        public static let freqShift = 0...4096
    }

    /// Checks every value against ``Limits`` and that the architecture is consistent (list
    /// lengths, block types, group and head divisibility, `sample_size` divisible by
    /// 2^(levels − 1)). Throws a ``UNetConfigError`` naming `source`, the key and the value.
    public func validate(source: String = "config") throws {
        typealias L = Limits
        func range(_ key: String, _ v: Int, _ allowed: ClosedRange<Int>) throws {
            if !allowed.contains(v) {
                throw UNetConfigError.outOfRange(source, key: key, value: "\(v)", allowed: UNetConfigError.text(allowed))
            }
        }
        func positive(_ key: String, _ v: Float) throws {
            if !(v.isFinite && v > 0) {
                throw UNetConfigError.outOfRange(source, key: key, value: "\(v)", allowed: "a finite number > 0")
            }
        }
        guard L.levels.contains(blockOutChannels.count) else {
            throw UNetConfigError.outOfRange(source, key: "block_out_channels", value: "\(blockOutChannels.count) entries",
                                             allowed: UNetConfigError.text(L.levels) + " entries")
        }
        for (i, c) in blockOutChannels.enumerated() { try range("block_out_channels[\(i)]", c, L.channels) }
        guard downBlockTypes.count == blockOutChannels.count, upBlockTypes.count == blockOutChannels.count else {
            throw UNetConfigError.inconsistent(source, "down_block_types (\(downBlockTypes.count) entries), up_block_types (\(upBlockTypes.count)) and block_out_channels (\(blockOutChannels.count)) must have the same length")
        }
        for t in downBlockTypes where !Self.downTypes.contains(t) {
            throw UNetConfigError.unsupported(source, key: "down_block_types", value: t)
        }
        for t in upBlockTypes where !Self.upTypes.contains(t) {
            throw UNetConfigError.unsupported(source, key: "up_block_types", value: t)
        }
        try range("in_channels", inChannels, L.channels)
        try range("out_channels", outChannels, L.channels)
        try range("layers_per_block", layersPerBlock, L.layersPerBlock)
        try range("downsample_padding", downsamplePadding, L.downsamplePadding)
        try range("norm_num_groups", normNumGroups, L.channels)
        for (i, c) in blockOutChannels.enumerated() where c % normNumGroups != 0 {
            throw UNetConfigError.inconsistent(source, "block_out_channels[\(i)] = \(c) is not divisible by norm_num_groups = \(normNumGroups) (every entry must be a multiple of it)")
        }
        if let g = attnNormNumGroups {
            try range("attn_norm_num_groups", g, L.channels)
            let last = blockOutChannels[blockOutChannels.count - 1]
            if last % g != 0 {
                throw UNetConfigError.inconsistent(source, "attn_norm_num_groups = \(g) does not divide the last block_out_channels entry \(last)")
            }
        }
        if let h = attentionHeadDim {
            try range("attention_head_dim", h, L.channels)
            if let (i, c) = blockOutChannels.enumerated().first(where: { $0.element % h != 0 }) {
                throw UNetConfigError.inconsistent(source, "attention_head_dim = \(h) does not divide block_out_channels[\(i)] = \(c) (every entry must be a multiple of it)")
            }
        }
        if let n = numClassEmbeds { try range("num_class_embeds", n, L.numClassEmbeds) }
        try range("sample_size", sampleSize, L.sampleSize)
        let factor = 1 << (blockOutChannels.count - 1)
        if sampleSize % factor != 0 {
            throw UNetConfigError.inconsistent(source, "sample_size = \(sampleSize) is not divisible by \(factor) (2^(levels − 1) for the \(blockOutChannels.count) entries of block_out_channels)")
        }
        try range("freq_shift", freqShift, 0...Swift.max(0, blockOutChannels[0] / 2 - 1))
        try positive("norm_eps", normEps)
        try positive("mid_block_scale_factor", midBlockScaleFactor)
        if viewTiles && inChannels != outChannels {
            throw UNetConfigError.inconsistent(source, "\(QuarterTurnTiles.configKey) takes the image alone: in_channels = out_channels (\(outChannels)), got \(inChannels)")
        }
        if viewTiles && sampleSize % (2 << (blockOutChannels.count - 1)) != 0 {
            throw UNetConfigError.inconsistent(source, "\(QuarterTurnTiles.configKey): sample_size \(sampleSize) must be twice a side divisible by \(1 << (blockOutChannels.count - 1))")
        }
        if let bins = cameraBins {
            if let why = bins.problem { throw UNetConfigError.inconsistent(source, "\(CameraBins.configKey): \(why)") }
            guard let n = numClassEmbeds, n >= 2 * (bins.count + 1), n % (bins.count + 1) == 0 else {
                throw UNetConfigError.inconsistent(source, "\(CameraBins.configKey) needs num_class_embeds = classes × \(bins.count + 1) (the view bins and \"no camera\"), got \(numClassEmbeds.map(String.init) ?? "none")")
            }
        }
    }

    /// The config as diffusers writes it (so diffusers can load a folder we save), with this
    /// package's own keys (camera bins, view tiles) where the config uses them.
    ///
    /// ```swift
    /// let text = try UNet2DConfig().configJSON().encoded([.prettyPrinted, .sortedKeys])   // what UNet2D.save writes
    /// ```
    public func configJSON() -> JSONValue {
        var object = diffusersObject
        if viewTiles { object[QuarterTurnTiles.configKey] = .string(QuarterTurnTiles.cardValue) }
        if let bins = cameraBins {
            object[CameraBins.configKey] = ["azimuth_bins": .int(bins.azimuthBins), "elevation_bins": .int(bins.elevationBins),
                                            "elevation_min_degrees": JSONValue(bins.elevationMinDegrees),
                                            "elevation_max_degrees": JSONValue(bins.elevationMaxDegrees)]
        }
        return object
    }

    private var diffusersObject: JSONValue {
        func optional(_ v: Int?) -> JSONValue { v.map(JSONValue.int) ?? .null }
        return [
            "_class_name": "UNet2DModel", "_diffusers_version": "0.42.1",
            "sample_size": .int(sampleSize), "in_channels": .int(inChannels), "out_channels": .int(outChannels),
            "center_input_sample": .bool(centerInputSample), "time_embedding_type": "positional",
            "flip_sin_to_cos": .bool(flipSinToCos), "freq_shift": .int(freqShift),
            "down_block_types": .array(downBlockTypes.map(JSONValue.string)), "up_block_types": .array(upBlockTypes.map(JSONValue.string)),
            "block_out_channels": .array(blockOutChannels.map(JSONValue.int)), "layers_per_block": .int(layersPerBlock),
            "mid_block_scale_factor": JSONValue(midBlockScaleFactor), "downsample_padding": .int(downsamplePadding),
            "downsample_type": "conv", "upsample_type": "conv", "dropout": 0.0, "act_fn": "silu",
            "attention_head_dim": optional(attentionHeadDim),
            "norm_num_groups": .int(normNumGroups), "attn_norm_num_groups": optional(attnNormNumGroups),
            "norm_eps": JSONValue(normEps), "resnet_time_scale_shift": "default", "add_attention": .bool(addAttention),
            "class_embed_type": nil, "num_class_embeds": optional(numClassEmbeds),
            "num_train_timesteps": nil,
        ]
    }
}

extension UNet2DConfig {
    /// The architecture in a few fields (for run manifests).
    public var jsonSummary: [String: String] {
        ["block_out_channels": blockOutChannels.map(String.init).joined(separator: ","),
         "down_block_types": downBlockTypes.joined(separator: ","), "layers_per_block": "\(layersPerBlock)",
         "sample_size": "\(sampleSize)", "num_class_embeds": numClassEmbeds.map(String.init) ?? "none",
         "camera": cameraBins.map { "bins \($0.azimuthBins)×\($0.elevationBins)" } ?? (inChannels == outChannels + CameraPlanes.count ? "planes" : "none")]
    }
}
