import Foundation
import Testing
import Diffusion

/// Model folders a user may point `--model` at whose `config.json` parses but makes no sense:
/// each class of bad value is refused with the ``UNetConfigError`` that names the file, the key,
/// the value and the allowed range (before any weights are read or any layer is allocated).
@Suite struct UNetConfigValidationTests {
    /// A small valid config, as raw JSON values (2 levels, 16×16, groups of 8).
    static let base: [(String, String)] = [
        ("_class_name", #""UNet2DModel""#), ("sample_size", "16"), ("in_channels", "3"), ("out_channels", "3"),
        ("block_out_channels", "[32, 64]"), ("down_block_types", #"["DownBlock2D", "AttnDownBlock2D"]"#),
        ("up_block_types", #"["AttnUpBlock2D", "UpBlock2D"]"#), ("layers_per_block", "1"), ("norm_num_groups", "8"),
        ("attention_head_dim", "8"), ("downsample_padding", "1"), ("freq_shift", "0"), ("norm_eps", "1e-05"),
    ]

    /// Writes the base config with `changes` (raw JSON values; a new key is appended, so a key
    /// already in the base appears twice when listed in `repeated`) into a fresh model folder,
    /// loads the folder, and returns the config error and the config file's path.
    func load(_ changes: [String: String] = [:], repeated: [(String, String)] = []) throws -> (error: UNetConfigError?, path: String) {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var pairs = Self.base.map { (k, v) in (k, changes[k] ?? v) }
        pairs += changes.filter { c in !Self.base.contains { $0.0 == c.key } }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        pairs += repeated
        let json = "{" + pairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        let file = folder.appendingPathComponent("config.json")
        try Data(json.utf8).write(to: file)
        do {
            _ = try UNet2D(contentsOf: folder)
            Issue.record("accepted \(json)")
            return (nil, file.path)
        } catch let e as UNetConfigError {
            return (e, file.path)
        }
    }

    /// The base config is valid: it gets as far as the (missing) weights.
    @Test func baseConfigIsValid() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = "{" + Self.base.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        try Data(json.utf8).write(to: folder.appendingPathComponent("config.json"))
        #expect(throws: UNetLoadError.missingWeights(folder.appendingPathComponent(UNet2D.weightsFileName).path)) {
            _ = try UNet2D(contentsOf: folder)
        }
    }

    @Test(arguments: [("norm_num_groups", "0"), ("norm_num_groups", "-8"), ("attention_head_dim", "0"),
                      ("attention_head_dim", "-4"), ("attn_norm_num_groups", "0"), ("norm_num_groups", "100000")])
    func nonPositiveOrHugeGroupsAndHeads(key: String, value: String) throws {
        let r = try load([key: value])
        #expect(r.error == .outOfRange(r.path, key: key, value: value, allowed: "1…8192"))
    }

    @Test(arguments: ["-32", "0", "8200", "1000000000000", "1e12"])
    func blockChannelsOutOfRange(value: String) throws {
        let r = try load(["block_out_channels": "[32, \(value)]"])
        #expect(r.error == .outOfRange(r.path, key: "block_out_channels[1]", value: value, allowed: "1…8192"))
    }

    @Test(arguments: ["32.5", "1e400", "true", #""64""#])
    func blockChannelsThatAreNotIntegers(value: String) throws {
        let r = try load(["block_out_channels": "[32, \(value)]"])
        let brief = value == #""64""# ? "'64'" : value
        #expect(r.error == .wrongType(r.path, key: "block_out_channels[1]", value: brief, expected: "an integer"))
    }

    @Test(arguments: [("sample_size", "16.5"), ("layers_per_block", "1.5"), ("norm_num_groups", "8.25"),
                      ("num_class_embeds", "7.5"), ("in_channels", "true")])
    func fractionalNumbersAreNotReadAsIntegers(key: String, value: String) throws {
        let r = try load([key: value])
        #expect(r.error == .wrongType(r.path, key: key, value: value, expected: "an integer"))
    }

    @Test func channelsNotDivisibleByGroupsOrHeads() throws {
        let groups = try load(["block_out_channels": "[32, 60]", "attention_head_dim": "null"])
        #expect(groups.error == .inconsistent(groups.path, "block_out_channels[1] = 60 is not divisible by norm_num_groups = 8 (every entry must be a multiple of it)"))
        let heads = try load(["attention_head_dim": "24"])
        #expect(heads.error == .inconsistent(heads.path, "attention_head_dim = 24 does not divide block_out_channels[0] = 32 (every entry must be a multiple of it)"))
        let attnGroups = try load(["attn_norm_num_groups": "48"])
        #expect(attnGroups.error == .inconsistent(attnGroups.path, "attn_norm_num_groups = 48 does not divide the last block_out_channels entry 64"))
    }

    @Test(arguments: ["-1", "0", "100001"])
    func classEmbedsOutOfRange(value: String) throws {
        let r = try load(["num_class_embeds": value])
        #expect(r.error == .outOfRange(r.path, key: "num_class_embeds", value: value, allowed: "1…100000"))
    }

    @Test(arguments: ["0", "-32", "4100", "1000000"])
    func sampleSizeOutOfRange(value: String) throws {
        let r = try load(["sample_size": value])
        #expect(r.error == .outOfRange(r.path, key: "sample_size", value: value, allowed: "1…4096"))
    }

    @Test func sampleSizeNotDivisibleByTheLevels() throws {
        let r = try load(["sample_size": "18", "block_out_channels": "[32, 64, 64]",
                          "down_block_types": #"["DownBlock2D", "DownBlock2D", "DownBlock2D"]"#,
                          "up_block_types": #"["UpBlock2D", "UpBlock2D", "UpBlock2D"]"#])
        #expect(r.error == .inconsistent(r.path, "sample_size = 18 is not divisible by 4 (2^(levels − 1) for the 3 entries of block_out_channels)"))
    }

    @Test(arguments: ["2", "-1", "5"])
    func downsamplePaddingOutOfRange(value: String) throws {
        let r = try load(["downsample_padding": value])
        #expect(r.error == .outOfRange(r.path, key: "downsample_padding", value: value, allowed: "0…1"))
    }

    @Test(arguments: ["0", "17", "1000000"])
    func layersPerBlockOutOfRange(value: String) throws {
        let r = try load(["layers_per_block": value])
        #expect(r.error == .outOfRange(r.path, key: "layers_per_block", value: value, allowed: "1…16"))
    }

    @Test func mismatchedOrEmptyBlockLists() throws {
        let short = try load(["up_block_types": #"["UpBlock2D"]"#])
        #expect(short.error == .inconsistent(short.path, "down_block_types (2 entries), up_block_types (1) and block_out_channels (2) must have the same length"))
        let long = try load(["block_out_channels": "[32, 64, 64]"])
        #expect(long.error == .inconsistent(long.path, "down_block_types (2 entries), up_block_types (2) and block_out_channels (3) must have the same length"))
        let empty = try load(["block_out_channels": "[]", "down_block_types": "[]", "up_block_types": "[]"])
        #expect(empty.error == .outOfRange(empty.path, key: "block_out_channels", value: "0 entries", allowed: "1…12 entries"))
        let thirteen = "[" + Array(repeating: "8", count: 13).joined(separator: ", ") + "]"
        let deep = try load(["block_out_channels": thirteen, "sample_size": "4096"])
        #expect(deep.error == .outOfRange(deep.path, key: "block_out_channels", value: "13 entries", allowed: "1…12 entries"))
    }

    @Test func unknownBlockTypes() throws {
        let down = try load(["down_block_types": #"["DownBlock2D", "CrossAttnDownBlock2D"]"#])
        #expect(down.error == .unsupported(down.path, key: "down_block_types", value: "CrossAttnDownBlock2D"))
        let up = try load(["up_block_types": #"["AttnUpBlock2D", "UpBlock3D"]"#])
        #expect(up.error == .unsupported(up.path, key: "up_block_types", value: "UpBlock3D"))
        let notString = try load(["up_block_types": #"["AttnUpBlock2D", 7]"#])
        #expect(notString.error == .wrongType(notString.path, key: "up_block_types[1]", value: "7", expected: "a string"))
    }

    @Test func duplicateKeys() throws {
        let r = try load(repeated: [("norm_num_groups", "16")])
        #expect(r.error == .duplicateKey(r.path, "norm_num_groups"))
    }

    @Test func nonPositiveOrNonFiniteFloatsAndShifts() throws {
        let eps = try load(["norm_eps": "0"])
        #expect(eps.error == .outOfRange(eps.path, key: "norm_eps", value: "0.0", allowed: "a finite number > 0"))
        let scale = try load(["mid_block_scale_factor": "-1"])
        #expect(scale.error == .outOfRange(scale.path, key: "mid_block_scale_factor", value: "-1.0", allowed: "a finite number > 0"))
        let huge = try load(["norm_eps": "1e300"])
        #expect(huge.error == .outOfRange(huge.path, key: "norm_eps", value: "1e300", allowed: "a finite 32-bit float"))
        let shift = try load(["freq_shift": "16"])   // half of block_out_channels[0] = 32
        #expect(shift.error == .outOfRange(shift.path, key: "freq_shift", value: "16", allowed: "0…15"))
        let channels = try load(["in_channels": "0"])
        #expect(channels.error == .outOfRange(channels.path, key: "in_channels", value: "0", allowed: "1…8192"))
    }

    /// Every message names the file, the key, the value and what is allowed.
    @Test func messagesNameFileKeyValueAndRange() throws {
        let r = try load(["layers_per_block": "99"])
        let message = try #require(r.error).description
        for part in [r.path, "layers_per_block", "99", "1…16"] { #expect(message.contains(part), "\(message) lacks \(part)") }
    }
}
