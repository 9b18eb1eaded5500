import Foundation

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
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw UNetConfigError.unreadable(url.path, "\(error.localizedDescription)")
        }
        try self.init(json: data, source: url.path)
    }

    /// Parses a config from JSON bytes (`source` names it in errors).
    public init(json data: Data, source: String = "config.json") throws {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
            throw UNetConfigError.notJSON(source)
        }
        var r = ConfigReader(dict: dict, source: source)
        if let cls = dict["_class_name"] as? String, cls != "UNet2DModel" {
            throw UNetConfigError.unsupported(source, key: "_class_name", value: cls)
        }
        sampleSize = try r.int("sample_size", default: 32)
        inChannels = try r.int("in_channels", default: 3)
        outChannels = try r.int("out_channels", default: 3)
        centerInputSample = try r.bool("center_input_sample", default: false)
        flipSinToCos = try r.bool("flip_sin_to_cos", default: true)
        freqShift = try r.int("freq_shift", default: 0)
        downBlockTypes = try r.strings("down_block_types", default: downBlockTypes)
        upBlockTypes = try r.strings("up_block_types", default: upBlockTypes)
        blockOutChannels = try r.ints("block_out_channels", default: blockOutChannels)
        layersPerBlock = try r.int("layers_per_block", default: 2)
        midBlockScaleFactor = try r.float("mid_block_scale_factor", default: 1)
        downsamplePadding = try r.int("downsample_padding", default: 1)
        attentionHeadDim = try r.optionalInt("attention_head_dim", default: 8)
        normNumGroups = try r.int("norm_num_groups", default: 32)
        attnNormNumGroups = try r.optionalInt("attn_norm_num_groups", default: nil)
        normEps = try r.float("norm_eps", default: 1e-5)
        addAttention = try r.bool("add_attention", default: true)
        numClassEmbeds = try r.optionalInt("num_class_embeds", default: nil)
        if let bins = dict[CameraBins.configKey], !(bins is NSNull) {
            guard let json = try? JSONSerialization.data(withJSONObject: bins),
                  let decoded = try? JSONDecoder().decode(CameraBins.self, from: json) else {
                throw UNetConfigError.wrongType(source, key: CameraBins.configKey,
                                                expected: "an object with azimuth_bins, elevation_bins, elevation_min_degrees, elevation_max_degrees")
            }
            cameraBins = decoded
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
        if let extra = r.unreadKeys.first { throw UNetConfigError.unknownKey(source, extra) }
        try validate(source: source)
    }

    /// Checks the architecture is consistent (block counts, group divisibility).
    public func validate(source: String = "config") throws {
        func bad(_ why: String) -> UNetConfigError { .inconsistent(source, why) }
        guard !blockOutChannels.isEmpty else { throw bad("block_out_channels is empty") }
        guard downBlockTypes.count == blockOutChannels.count, upBlockTypes.count == blockOutChannels.count else {
            throw bad("down_block_types, up_block_types and block_out_channels must have the same length")
        }
        for t in downBlockTypes where !Self.downTypes.contains(t) {
            throw UNetConfigError.unsupported(source, key: "down_block_types", value: t)
        }
        for t in upBlockTypes where !Self.upTypes.contains(t) {
            throw UNetConfigError.unsupported(source, key: "up_block_types", value: t)
        }
        for c in blockOutChannels where c % normNumGroups != 0 {
            throw bad("block_out_channels \(c) is not divisible by norm_num_groups \(normNumGroups)")
        }
        if let h = attentionHeadDim, blockOutChannels.contains(where: { $0 % h != 0 }) {
            throw bad("attention_head_dim \(h) does not divide every block_out_channels entry")
        }
        guard layersPerBlock >= 1, inChannels >= 1, outChannels >= 1 else { throw bad("sizes must be positive") }
        if let bins = cameraBins {
            if let why = bins.problem { throw bad("\(CameraBins.configKey): \(why)") }
            guard let n = numClassEmbeds, n >= 2 * (bins.count + 1), n % (bins.count + 1) == 0 else {
                throw bad("\(CameraBins.configKey) needs num_class_embeds = classes × \(bins.count + 1) (the view bins and \"no camera\"), got \(numClassEmbeds.map(String.init) ?? "none")")
            }
        }
    }

    /// The config as diffusers writes it (so diffusers can load a folder we save).
    public func jsonObject() -> [String: Any] {
        var object = diffusersObject
        if let bins = cameraBins {
            object[CameraBins.configKey] = ["azimuth_bins": bins.azimuthBins, "elevation_bins": bins.elevationBins,
                                            "elevation_min_degrees": bins.elevationMinDegrees,
                                            "elevation_max_degrees": bins.elevationMaxDegrees]
        }
        return object
    }

    private var diffusersObject: [String: Any] {
        [
            "_class_name": "UNet2DModel", "_diffusers_version": "0.42.1",
            "sample_size": sampleSize, "in_channels": inChannels, "out_channels": outChannels,
            "center_input_sample": centerInputSample, "time_embedding_type": "positional",
            "flip_sin_to_cos": flipSinToCos, "freq_shift": freqShift,
            "down_block_types": downBlockTypes, "up_block_types": upBlockTypes,
            "block_out_channels": blockOutChannels, "layers_per_block": layersPerBlock,
            "mid_block_scale_factor": midBlockScaleFactor, "downsample_padding": downsamplePadding,
            "downsample_type": "conv", "upsample_type": "conv", "dropout": 0.0, "act_fn": "silu",
            "attention_head_dim": attentionHeadDim as Any? ?? NSNull(),
            "norm_num_groups": normNumGroups, "attn_norm_num_groups": attnNormNumGroups as Any? ?? NSNull(),
            "norm_eps": normEps, "resnet_time_scale_shift": "default", "add_attention": addAttention,
            "class_embed_type": NSNull(), "num_class_embeds": numClassEmbeds as Any? ?? NSNull(),
            "num_train_timesteps": NSNull(),
        ]
    }
}

/// A `config.json` problem, naming the file and the key.
public enum UNetConfigError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, String)
    case notJSON(String)
    case wrongType(String, key: String, expected: String)
    case unsupported(String, key: String, value: String)
    case unknownKey(String, String)
    case inconsistent(String, String)

    public var description: String {
        switch self {
        case let .unreadable(f, why): return "cannot read UNet config '\(f)': \(why)"
        case let .notJSON(f): return "UNet config '\(f)' is not a JSON object"
        case let .wrongType(f, key, expected): return "UNet config '\(f)': '\(key)' should be \(expected)"
        case let .unsupported(f, key, value):
            return "UNet config '\(f)': \(key) = \(value) is not supported (HINT: diffreps implements UNet2DModel with DownBlock2D/AttnDownBlock2D/UpBlock2D/AttnUpBlock2D, positional time embedding, SiLU)"
        case let .unknownKey(f, key): return "UNet config '\(f)': unknown key '\(key)' is not supported"
        case let .inconsistent(f, why): return "UNet config '\(f)': \(why)"
        }
    }
}

/// Typed access to a JSON dictionary that remembers which keys were read.
struct ConfigReader {
    let dict: [String: Any]
    let source: String
    private(set) var read: Set<String> = []

    init(dict: [String: Any], source: String) {
        self.dict = dict
        self.source = source
    }

    var unreadKeys: [String] {
        dict.keys.filter { !$0.hasPrefix("_") && !read.contains($0) }.sorted()
    }

    mutating func markRead(_ key: String) { read.insert(key) }

    private mutating func value(_ key: String) -> Any? {
        read.insert(key)
        guard let v = dict[key], !(v is NSNull) else { return nil }
        return v
    }

    mutating func int(_ key: String, default d: Int) throws -> Int {
        guard let v = value(key) else { return d }
        guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() else {
            throw UNetConfigError.wrongType(source, key: key, expected: "an integer")
        }
        return n.intValue
    }

    mutating func optionalInt(_ key: String, default d: Int?) throws -> Int? {
        guard dict.keys.contains(key) else { return d }
        guard value(key) != nil else { return nil }
        return try int(key, default: 0)
    }

    mutating func float(_ key: String, default d: Float) throws -> Float {
        guard let v = value(key) else { return d }
        guard let n = v as? NSNumber else { throw UNetConfigError.wrongType(source, key: key, expected: "a number") }
        return n.floatValue
    }

    mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = value(key) else { return d }
        guard let b = v as? Bool else { throw UNetConfigError.wrongType(source, key: key, expected: "true or false") }
        return b
    }

    mutating func strings(_ key: String, default d: [String]) throws -> [String] {
        guard let v = value(key) else { return d }
        guard let a = v as? [String] else { throw UNetConfigError.wrongType(source, key: key, expected: "a list of strings") }
        return a
    }

    mutating func ints(_ key: String, default d: [Int]) throws -> [Int] {
        guard let v = value(key) else { return d }
        guard let a = v as? [NSNumber] else { throw UNetConfigError.wrongType(source, key: key, expected: "a list of integers") }
        return a.map { $0.intValue }
    }

    mutating func expect(_ key: String, _ supported: String) throws {
        guard let v = value(key) else { return }
        guard let s = v as? String else { throw UNetConfigError.wrongType(source, key: key, expected: "a string") }
        if s != supported { throw UNetConfigError.unsupported(source, key: key, value: s) }
    }

    mutating func expectNull(_ key: String) throws {
        if let v = value(key) { throw UNetConfigError.unsupported(source, key: key, value: "\(v)") }
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
