import Foundation
import JSON
import SafeTensors

/// The subset of diffusers' `UNet2DConditionModel` `config.json` that ``UNet2DCondition``
/// implements: every Stable Diffusion 1.x and 2.x UNet. Keys and defaults are diffusers' own;
/// per-block keys (`attention_head_dim`, `cross_attention_dim`, `layers_per_block`,
/// `transformer_layers_per_block`) are read as one number or one entry per block and kept here
/// as per-block lists. A key or value outside what is implemented is an error that names it.
///
/// `attention_head_dim` is, for this model, the number of heads (diffusers' historical naming:
/// SD 1.5 has 8 heads per block; SD 2.x lists `[5, 10, 20, 20]`, 64 channels per head).
///
/// ```swift
/// let config = try UNet2DConditionConfig(contentsOf: folder.appendingPathComponent("config.json"))
/// config.attentionHeads   // [8, 8, 8, 8] for SD 1.5
/// ```
public struct UNet2DConditionConfig: Equatable, Sendable {
    public var sampleSize: Int = 64
    public var inChannels: Int = 4
    public var outChannels: Int = 4
    public var centerInputSample = false
    public var flipSinToCos = true
    public var freqShift: Int = 0
    public var downBlockTypes: [String] = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    /// `UNetMidBlock2DCrossAttn`, `UNetMidBlock2D` (one resnet) or `nil` (no mid block).
    public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
    public var upBlockTypes: [String] = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var blockOutChannels: [Int] = [320, 640, 1280, 1280]
    /// Resnets per down block (up blocks have one more), per block.
    public var layersPerBlock: [Int] = [2, 2, 2, 2]
    public var downsamplePadding: Int = 1
    public var midBlockScaleFactor: Float = 1
    public var normNumGroups: Int = 32
    public var normEps: Float = 1e-5
    /// The width of the text states each block's cross-attention reads, per block.
    public var crossAttentionDim: [Int] = [1280, 1280, 1280, 1280]
    /// Transformer blocks per `Transformer2D`, per block.
    public var transformerLayersPerBlock: [Int] = [1, 1, 1, 1]
    /// Attention heads per block (the `attention_head_dim` key); up blocks read the list reversed.
    public var attentionHeads: [Int] = [8, 8, 8, 8]
    /// Linear `proj_in`/`proj_out` (SD 2.x) instead of 1×1 convolutions (SD 1.x).
    public var useLinearProjection = false
    /// diffusers computes attention in float32 with this set; here it always is (kept for saving).
    public var upcastAttention = false
    public var convInKernel: Int = 3
    public var convOutKernel: Int = 3

    public init() {}

    /// The width of the time embedding (`block_out_channels[0] · 4`).
    public var timeEmbedDim: Int { blockOutChannels[0] * 4 }

    static let downTypes: Set<String> = ["DownBlock2D", "CrossAttnDownBlock2D"]
    static let upTypes: Set<String> = ["UpBlock2D", "CrossAttnUpBlock2D"]
    static let midTypes: Set<String> = ["UNetMidBlock2DCrossAttn", "UNetMidBlock2D"]

    /// Reads and validates a diffusers `config.json`.
    public init(contentsOf url: URL) throws {
        try self.init(json: try ConfigReader<UNetConfigKind>.data(contentsOf: url), source: url.path)
    }

    /// Parses a config from JSON bytes (`source` names it in errors); the result is validated
    /// (``validate(source:)``), so a config that parses cannot make ``UNet2DCondition/init(config:seed:)`` trap.
    ///
    /// ```swift
    /// let c = try UNet2DConditionConfig(json: Data(#"{"use_linear_projection": true}"#.utf8), source: "unet/config.json")
    /// _ = try UNet2DConditionConfig(json: Data(#"{"class_embed_type": "timestep"}"#.utf8), source: "unet/config.json")
    /// // throws UNetConfigError.unsupported("unet/config.json", key: "class_embed_type", value: "'timestep'")
    /// ```
    public init(json data: Data, source: String = "config.json") throws {
        var r = try ConfigReader<UNetConfigKind>(json: data, source: source)
        try r.expectClass("UNet2DConditionModel")
        typealias L = UNet2DConfig.Limits
        sampleSize = try r.int("sample_size", default: 64, in: L.sampleSize)
        inChannels = try r.int("in_channels", default: 4, in: L.channels)
        outChannels = try r.int("out_channels", default: 4, in: L.channels)
        centerInputSample = try r.bool("center_input_sample", default: false)
        flipSinToCos = try r.bool("flip_sin_to_cos", default: true)
        freqShift = try r.int("freq_shift", default: 0, in: L.freqShift)
        downBlockTypes = try r.strings("down_block_types", default: downBlockTypes)
        upBlockTypes = try r.strings("up_block_types", default: upBlockTypes)
        if r.peek("mid_block_type") == .null { r.markRead("mid_block_type"); midBlockType = nil }
        else { midBlockType = try r.string("mid_block_type", default: "UNetMidBlock2DCrossAttn") }
        blockOutChannels = try r.ints("block_out_channels", default: blockOutChannels, in: L.channels)
        let blocks = downBlockTypes.count
        layersPerBlock = try r.perBlock("layers_per_block", default: 2, blocks: blocks, in: L.layersPerBlock)
        downsamplePadding = try r.int("downsample_padding", default: 1, in: L.downsamplePadding)
        midBlockScaleFactor = try r.float("mid_block_scale_factor", default: 1)
        normNumGroups = try r.int("norm_num_groups", default: 32, in: L.channels)
        normEps = try r.float("norm_eps", default: 1e-5)
        crossAttentionDim = try r.perBlock("cross_attention_dim", default: 1280, blocks: blocks, in: L.channels)
        transformerLayersPerBlock = try r.perBlock("transformer_layers_per_block", default: 1, blocks: blocks, in: L.layersPerBlock)
        attentionHeads = try r.perBlock("attention_head_dim", default: 8, blocks: blocks, in: L.channels)
        useLinearProjection = try r.bool("use_linear_projection", default: false)
        upcastAttention = try r.bool("upcast_attention", default: false)
        convInKernel = try r.int("conv_in_kernel", default: 3, in: Limits.kernel)
        convOutKernel = try r.int("conv_out_kernel", default: 3, in: Limits.kernel)

        // Keys whose only supported value is diffusers' default.
        try r.expect("act_fn", "silu")
        try r.expect("time_embedding_type", "positional")
        try r.expect("resnet_time_scale_shift", "default")
        try r.expect("attention_type", "default")
        for key in ["num_attention_heads", "class_embed_type", "num_class_embeds", "addition_embed_type",
                    "addition_time_embed_dim", "encoder_hid_dim", "encoder_hid_dim_type", "time_embedding_dim",
                    "time_embedding_act_fn", "timestep_post_act", "time_cond_proj_dim",
                    "projection_class_embeddings_input_dim", "reverse_transformer_layers_per_block"] {
            try r.expectNull(key)
        }
        try r.expectFalse("dual_cross_attention")
        try r.expectFalse("class_embeddings_concat")
        try r.expectFalse("only_cross_attention", perBlock: true)
        // Keys diffusers reads only for block kinds this config cannot name (simple cross-attention
        // and resnet-downsample blocks), or only in training (dropout): they change nothing here.
        for key in ["dropout", "resnet_skip_time_act", "resnet_out_scale_factor", "mid_block_only_cross_attention",
                    "cross_attention_norm", "addition_embed_type_num_heads"] {
            r.markRead(key)
        }
        try r.finish()
        try validate(source: source)
    }

    /// Bounds beyond ``UNet2DConfig/Limits``.
    public enum Limits {
        /// `conv_in_kernel` and `conv_out_kernel` (odd: diffusers pads `(k − 1)/2`, which keeps the size only for odd `k`).
        public static let kernel = 1...15
    }

    /// Checks list lengths, block types, group and head divisibility and `sample_size`.
    /// Throws a ``UNetConfigError`` naming `source`, the key and the value.
    public func validate(source: String = "config") throws {
        typealias L = UNet2DConfig.Limits
        func range(_ key: String, _ v: Int, _ allowed: ClosedRange<Int>) throws {
            if !allowed.contains(v) {
                throw UNetConfigError.outOfRange(source, key: key, value: "\(v)", allowed: UNetConfigError.text(allowed))
            }
        }
        guard L.levels.contains(blockOutChannels.count) else {
            throw UNetConfigError.outOfRange(source, key: "block_out_channels", value: "\(blockOutChannels.count) entries",
                                             allowed: UNetConfigError.text(L.levels) + " entries")
        }
        let n = blockOutChannels.count
        for (i, c) in blockOutChannels.enumerated() { try range("block_out_channels[\(i)]", c, L.channels) }
        guard downBlockTypes.count == n, upBlockTypes.count == n else {
            throw UNetConfigError.inconsistent(source, "down_block_types (\(downBlockTypes.count) entries), up_block_types (\(upBlockTypes.count)) and block_out_channels (\(n)) must have the same length")
        }
        for (key, list) in [("layers_per_block", layersPerBlock), ("cross_attention_dim", crossAttentionDim),
                            ("transformer_layers_per_block", transformerLayersPerBlock), ("attention_head_dim", attentionHeads)]
        where list.count != n {
            throw UNetConfigError.inconsistent(source, "\(key) has \(list.count) entries, block_out_channels \(n) (one per block, or one number for all)")
        }
        for t in downBlockTypes where !Self.downTypes.contains(t) {
            throw UNetConfigError.unsupported(source, key: "down_block_types", value: t)
        }
        for t in upBlockTypes where !Self.upTypes.contains(t) {
            throw UNetConfigError.unsupported(source, key: "up_block_types", value: t)
        }
        if let m = midBlockType, !Self.midTypes.contains(m) {
            throw UNetConfigError.unsupported(source, key: "mid_block_type", value: m)
        }
        try range("in_channels", inChannels, L.channels)
        try range("out_channels", outChannels, L.channels)
        try range("downsample_padding", downsamplePadding, L.downsamplePadding)
        try range("norm_num_groups", normNumGroups, L.channels)
        for (i, c) in blockOutChannels.enumerated() where c % normNumGroups != 0 {
            throw UNetConfigError.inconsistent(source, "block_out_channels[\(i)] = \(c) is not divisible by norm_num_groups = \(normNumGroups) (every entry must be a multiple of it)")
        }
        for (i, heads) in attentionHeads.enumerated() where heads > blockOutChannels[i] {
            throw UNetConfigError.inconsistent(source, "attention_head_dim[\(i)] = \(heads) heads exceeds block_out_channels[\(i)] = \(blockOutChannels[i]) (it counts heads, as in diffusers)")
        }
        for (key, k) in [("conv_in_kernel", convInKernel), ("conv_out_kernel", convOutKernel)] where k % 2 == 0 {
            throw UNetConfigError.outOfRange(source, key: key, value: "\(k)", allowed: "an odd size in \(UNetConfigError.text(Limits.kernel))")
        }
        try range("sample_size", sampleSize, L.sampleSize)
        let factor = 1 << (n - 1)
        if sampleSize % factor != 0 {
            throw UNetConfigError.inconsistent(source, "sample_size = \(sampleSize) is not divisible by \(factor) (2^(levels − 1) for the \(n) entries of block_out_channels)")
        }
        try range("freq_shift", freqShift, 0...Swift.max(0, blockOutChannels[0] / 2 - 1))
        for (key, v) in [("norm_eps", normEps), ("mid_block_scale_factor", midBlockScaleFactor)] where !(v.isFinite && v > 0) {
            throw UNetConfigError.outOfRange(source, key: key, value: "\(v)", allowed: "a finite number > 0")
        }
    }

    /// The config as diffusers writes it (per-block values as lists), so diffusers loads a
    /// folder saved by ``UNet2DCondition/save(to:)``.
    public func configJSON() -> JSONValue {
        func ints(_ v: [Int]) -> JSONValue { .array(v.map(JSONValue.int)) }
        return [
            "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.42.1",
            "sample_size": .int(sampleSize), "in_channels": .int(inChannels), "out_channels": .int(outChannels),
            "center_input_sample": .bool(centerInputSample), "flip_sin_to_cos": .bool(flipSinToCos), "freq_shift": .int(freqShift),
            "down_block_types": .array(downBlockTypes.map(JSONValue.string)),
            "mid_block_type": midBlockType.map(JSONValue.string) ?? .null,
            "up_block_types": .array(upBlockTypes.map(JSONValue.string)),
            "block_out_channels": ints(blockOutChannels), "layers_per_block": ints(layersPerBlock),
            "downsample_padding": .int(downsamplePadding), "mid_block_scale_factor": JSONValue(midBlockScaleFactor),
            "act_fn": "silu", "norm_num_groups": .int(normNumGroups), "norm_eps": JSONValue(normEps),
            "cross_attention_dim": ints(crossAttentionDim), "transformer_layers_per_block": ints(transformerLayersPerBlock),
            "attention_head_dim": ints(attentionHeads), "use_linear_projection": .bool(useLinearProjection),
            "upcast_attention": .bool(upcastAttention), "conv_in_kernel": .int(convInKernel), "conv_out_kernel": .int(convOutKernel),
            "time_embedding_type": "positional", "resnet_time_scale_shift": "default", "attention_type": "default",
            "dual_cross_attention": false, "only_cross_attention": false, "class_embed_type": nil, "num_class_embeds": nil,
            "dropout": 0.0,
        ]
    }
}

extension ConfigReader {
    /// One integer for every block, or a list of one per block (`blocks` entries).
    mutating func perBlock(_ key: String, default d: Int, blocks: Int, in allowed: ClosedRange<Int>) throws -> [Int] {
        if case .array? = peek(key) { return try ints(key, default: [], in: allowed) }
        return [Int](repeating: try int(key, default: d, in: allowed), count: blocks)
    }

    /// `false` (or absent/null); with `perBlock`, also a list of `false`.
    mutating func expectFalse(_ key: String, perBlock: Bool = false) throws {
        markRead(key)
        guard let v = peek(key), v != .null else { return }
        if case .bool(false) = v { return }
        if perBlock, case .array(let items) = v, items.allSatisfy({ $0 == .bool(false) }) { return }
        if case .bool = v { throw Failure.unsupported(source, key: key, value: v.brief) }
        if perBlock, case .array = v { throw Failure.unsupported(source, key: key, value: v.brief) }
        throw Failure.wrongType(source, key: key, value: v.brief, expected: perBlock ? "false or a list of false" : "false")
    }
}
