import Foundation
import JSON
import SafeTensors
import TensorCore

/// Why a model folder's weights could not be found or assembled (a missing file altogether is
/// ``UNetLoadError/missingWeights(_:)``). Every message names the folder or file.
///
/// ```swift
/// do { _ = try UNet2DCondition(contentsOf: unetFolder) }
/// catch let e as WeightsFileError { print(e) }   // e.g. "'sd/unet' holds the weights variants fp16, ema; …"
/// ```
public enum WeightsFileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Several variants (`<stem>.<variant>.safetensors`) and no plain file: which one is meant?
    case ambiguousVariant(folder: String, variants: [String])
    /// The asked-for variant is not in the folder.
    case missingVariant(folder: String, variant: String, found: [String])
    /// A shard index (`….safetensors.index.json`) that is not `{"weight_map": {name: file}}`.
    case badIndex(String, reason: String)
    /// A shard file the index names is missing.
    case missingShard(index: String, shard: String)
    /// The index puts `tensor` in `shard`, which does not hold it.
    case tensorNotInShard(index: String, shard: String, tensor: String)

    public var description: String {
        switch self {
        case let .ambiguousVariant(folder, variants):
            return "'\(folder)' holds the weights variants \(variants.joined(separator: ", ")) and no plain weights file (HINT: pick one with variant:, e.g. \"\(variants[0])\")"
        case let .missingVariant(folder, variant, found):
            return "'\(folder)' has no weights of variant '\(variant)'" + (found.isEmpty ? "" : " (found: \(found.joined(separator: ", ")))")
        case let .badIndex(file, reason): return "shard index '\(file)': \(reason)"
        case let .missingShard(index, shard): return "shard index '\(index)' names '\(shard)', which is missing"
        case let .tensorNotInShard(index, shard, tensor):
            return "shard index '\(index)': weight_map puts '\(tensor)' in '\(shard)', which has no such tensor"
        }
    }

    public var errorDescription: String? { description }
}

/// Reads a model folder's safetensors weights, the one step every diffusers/transformers loader
/// here shares (`UNet2D`, `UNet2DCondition`, `AutoencoderKL`, `CLIPTextModel`), in the four
/// layouts `save_pretrained` writes for a weights file `<stem>.safetensors`:
/// - one file, `<stem>.safetensors`;
/// - shards listed by `<stem>.safetensors.index.json` (`weight_map`: tensor → shard file);
/// - a variant, `<stem>.<variant>.safetensors` (diffusers' and transformers' `variant="fp16"`);
/// - a sharded variant, `<stem>.safetensors.index.<variant>.json` and its shards.
/// Without an explicit `variant` the plain weights win; with none there, the one variant present
/// is taken (several are an error that lists them). F32, F16 and BF16 tensors all load as F32.
enum WeightsFile {
    /// Writes a diffusers model folder: `config.json` and the weights `name` (safetensors with
    /// diffusers' `format: pt` metadata); `folder` is created if missing, both files atomically.
    ///
    /// ```swift
    /// try WeightsFile.write(config: unet.config.configJSON(), parameters: unet.parameters,
    ///                       as: "diffusion_pytorch_model.safetensors", in: folder)
    /// ```
    static func write(config: JSONValue, parameters: Parameters, as name: String, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let json = try config.encoded([.prettyPrinted, .sortedKeys])
        try json.write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        try SafeTensors.save(parameters.map { (name: $0.0, tensor: $0.1) }, metadata: ["format": "pt"],
                             to: folder.appendingPathComponent(name))
    }

    /// The named tensors of the weights `name` in `folder` and the path errors should name (the
    /// file, or the shard index). A folder with none is ``UNetLoadError/missingWeights(_:)``.
    ///
    /// ```swift
    /// let (weights, path) = try WeightsFile.read("diffusion_pytorch_model.safetensors", in: folder)
    /// let (w16, _) = try WeightsFile.read("model.safetensors", in: textEncoder, variant: "fp16")
    /// ```
    static func read(_ name: String, in folder: URL, variant: String? = nil) throws -> (weights: [(name: String, tensor: Tensor)], path: String) {
        let fm = FileManager.default
        let stem = name.hasSuffix(".safetensors") ? String(name.dropLast(".safetensors".count)) : name
        func single(_ v: String?) -> URL { folder.appendingPathComponent(v.map { "\(stem).\($0).safetensors" } ?? name) }
        func index(_ v: String?) -> URL { folder.appendingPathComponent(v.map { "\(name).index.\($0).json" } ?? "\(name).index.json") }
        func load(_ v: String?) throws -> (weights: [(name: String, tensor: Tensor)], path: String)? {
            if fm.fileExists(atPath: single(v).path) { return (try SafeTensors.load(contentsOf: single(v)), single(v).path) }
            if fm.fileExists(atPath: index(v).path) { return (try readShards(index: index(v)), index(v).path) }
            return nil
        }
        let found = variants(of: name, stem: stem, in: folder)
        if let variant {
            if let w = try load(variant) { return w }
            throw WeightsFileError.missingVariant(folder: folder.path, variant: variant, found: found)
        }
        if let w = try load(nil) { return w }
        if found.count > 1 { throw WeightsFileError.ambiguousVariant(folder: folder.path, variants: found) }
        if let only = found.first, let w = try load(only) { return w }
        throw UNetLoadError.missingWeights(single(nil).path)
    }

    /// The variants present: `<stem>.<v>.safetensors` and `<name>.index.<v>.json` (shard files
    /// `<stem>.<v>-0000k-of-0000n.safetensors` are not variants of their own).
    static func variants(of name: String, stem: String, in folder: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var found: Set<String> = []
        for f in files {
            if f.hasPrefix(stem + "."), f.hasSuffix(".safetensors") {
                let v = String(f.dropFirst(stem.count + 1).dropLast(".safetensors".count))
                if !v.isEmpty, !v.contains("."), !v.contains("-of-") { found.insert(v) }
            } else if f.hasPrefix(name + ".index."), f.hasSuffix(".json") {
                let v = String(f.dropFirst(name.count + ".index.".count).dropLast(".json".count))
                if !v.isEmpty { found.insert(v) }
            }
        }
        return found.sorted()
    }

    /// Every tensor of the shards an index lists; each tensor must be in the shard it is mapped to.
    static func readShards(index url: URL) throws -> [(name: String, tensor: Tensor)] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WeightsFileError.badIndex(url.path, reason: FileReadFailure.reason(url, error))
        }
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch { throw WeightsFileError.badIndex(url.path, reason: "not JSON: \(error.message)") }
        guard case .object(let map)? = root["weight_map"] else {
            throw WeightsFileError.badIndex(url.path, reason: "no object 'weight_map'")
        }
        var byShard: [String: [String]] = [:]
        for (tensor, value) in map {
            guard let shard = value.stringValue, !shard.isEmpty, !shard.contains("/") else {
                throw WeightsFileError.badIndex(url.path, reason: "weight_map['\(tensor)'] = \(value.brief) is not a file name in the folder")
            }
            byShard[shard, default: []].append(tensor)
        }
        guard !byShard.isEmpty else { throw WeightsFileError.badIndex(url.path, reason: "'weight_map' is empty") }
        var weights: [(name: String, tensor: Tensor)] = []
        for shard in byShard.keys.sorted() {
            let file = url.deletingLastPathComponent().appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: file.path) else { throw WeightsFileError.missingShard(index: url.path, shard: shard) }
            let tensors = try SafeTensors.load(contentsOf: file)
            let names = Set(tensors.map(\.name))
            if let absent = byShard[shard]!.sorted().first(where: { !names.contains($0) }) {
                throw WeightsFileError.tensorNotInShard(index: url.path, shard: shard, tensor: absent)
            }
            weights += tensors
        }
        return weights
    }
}
