import Foundation
import JSON
import TensorCore

/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors),
/// the file format of diffusers' weights:
///
/// ```text
/// [8 bytes: N, little-endian UInt64][N bytes: JSON header, padded with spaces][data section]
/// header: {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, …}
/// ```
/// `data_offsets` are byte ranges in the data section; the tensors must tile it exactly (no
/// overlap, no unused bytes). F32, F16 and BF16 tensors are read as Float32. Every header field
/// is validated and each problem throws its own ``SafeTensorsError``.
///
/// ```swift
/// let weights = try SafeTensors.loadDictionary(contentsOf: modelDir.appendingPathComponent("diffusion_pytorch_model.safetensors"))
/// try SafeTensors.save([("w", w), ("b", b)], metadata: ["format": "pt"], to: outURL)
/// ```
public enum SafeTensors {
    /// Everything a safetensors file holds.
    public struct Contents {
        /// The tensors in file (data-offset) order.
        public var tensors: [(name: String, tensor: Tensor)]
        /// The element type each tensor was stored as.
        public var dtypes: [String: DType]
        /// The `__metadata__` strings, if the file has them.
        public var metadata: [String: String]?

        /// The tensors by name.
        public var dictionary: [String: Tensor] {
            Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        }
    }

    // MARK: - Reading

    /// The tensors of a file, in file order (each tensor's `name` is set).
    public static func load(contentsOf url: URL) throws -> [(name: String, tensor: Tensor)] {
        try read(contentsOf: url).tensors
    }

    /// The tensors of a file by name.
    public static func loadDictionary(contentsOf url: URL) throws -> [String: Tensor] {
        try read(contentsOf: url).dictionary
    }

    /// Tensors, stored dtypes and metadata of a file.
    public static func read(contentsOf url: URL) throws -> Contents {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafeTensorsError.unreadable(path: url.path, reason: FileReadFailure.reason(url, error))
        }
        do { return try parseContents(data) } catch let problem as SafeTensorsError {
            throw SafeTensorsError.inFile(path: url.path, problem)        // name the file, not just the flaw
        }
    }

    /// The tensors of a safetensors byte buffer, in file order.
    public static func parse(_ data: Data) throws -> [(name: String, tensor: Tensor)] {
        try parseContents(data).tensors
    }

    /// Tensors, stored dtypes and metadata of a safetensors byte buffer.
    public static func parseContents(_ data: Data) throws -> Contents {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(SafeTensorsError) -> Contents in
            try parseContents(raw)
        }
    }

    private struct Entry {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    private static func parseContents(_ raw: UnsafeRawBufferPointer) throws(SafeTensorsError) -> Contents {
        guard raw.count >= 8 else { throw .fileTooShort(byteCount: raw.count) }
        let headerLength = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(raw.count - 8) else {
            throw .headerLengthExceedsFile(headerLength: headerLength, available: raw.count - 8)
        }
        let n = Int(headerLength)
        let header: JSONValue
        do { header = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: raw[8..<8 + n])) } catch {
            throw .invalidHeaderJSON(reason: error.message)
        }
        guard case .object(let members) = header else {
            throw .invalidHeaderJSON(reason: "the header is \(header.kind), not an object")
        }
        let dataStart = 8 + n, dataLength = raw.count - dataStart

        var seen = Set<String>()
        var metadata: [String: String]?
        var entries: [Entry] = []
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw .duplicateTensorName(name) }
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name, value, dataLength: dataLength))
            }
        }

        // The tensors must tile the data section: sorted by offset, each begins where the last ended.
        let ordered = entries.enumerated().sorted { ($0.element.begin, $0.element.end, $0.offset) < ($1.element.begin, $1.element.end, $1.offset) }.map(\.element)
        var cursor = 0
        var previous: String?
        for e in ordered {
            if e.begin < cursor { throw .overlappingTensors(first: previous ?? "", second: e.name) }
            if e.begin > cursor { throw .gapBeforeTensor(name: e.name, expectedOffset: cursor, actualOffset: e.begin) }
            cursor = e.end
            previous = e.name
        }
        if cursor < dataLength { throw .trailingBytes(count: dataLength - cursor) }

        let base = raw.baseAddress! + dataStart
        let tensors = ordered.map { e -> (name: String, tensor: Tensor) in
            let t = Tensor(e.shape, data: decode(e.dtype, base + e.begin, count: (e.end - e.begin) / e.dtype.byteSize))
            t.name = e.name
            return (e.name, t)
        }
        return Contents(tensors: tensors, dtypes: Dictionary(uniqueKeysWithValues: ordered.map { ($0.name, $0.dtype) }),
                        metadata: metadata)
    }

    private static func parseMetadata(_ value: JSONValue) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let pairs) = value else { throw .invalidMetadata(reason: "it is \(value.kind), not an object") }
        var out: [String: String] = [:]
        for (k, v) in pairs {
            guard case .string(let s) = v else { throw .invalidMetadata(reason: "'\(k)' is \(v.kind), not a string") }
            guard out[k] == nil else { throw .invalidMetadata(reason: "'\(k)' appears twice") }
            out[k] = s
        }
        return out
    }

    private static func parseEntry(_ name: String, _ value: JSONValue, dataLength: Int) throws(SafeTensorsError) -> Entry {
        guard case .object(let fields) = value else {
            throw .invalidTensorEntry(name: name, reason: "it is \(value.kind), not an object")
        }
        func field(_ key: String) throws(SafeTensorsError) -> JSONValue {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw .invalidTensorEntry(name: name, reason: "missing '\(key)'")
            }
            return v
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw .invalidTensorEntry(name: name, reason: "'dtype' is not a string")
        }
        guard case .array(let dims) = try field("shape") else {
            throw .invalidTensorEntry(name: name, reason: "'shape' is not an array")
        }
        let shape = dims.compactMap(\.nonNegativeInt)
        guard shape.count == dims.count else {
            throw .invalidTensorEntry(name: name, reason: "'shape' must hold non-negative integers")
        }
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
              let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
            throw .invalidTensorEntry(name: name, reason: "'data_offsets' must be two non-negative integers")
        }
        guard let dtype = DType(rawValue: dtypeName) else { throw .unsupportedDType(name: name, dtype: dtypeName) }
        guard begin <= end else { throw .invalidOffsets(name: name, begin: begin, end: end) }
        guard end <= dataLength else { throw .offsetsOutOfBounds(name: name, begin: begin, end: end, dataLength: dataLength) }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidTensorEntry(name: name, reason: "shape \(shape) is too large") }
            elements = p
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw .sizeMismatch(name: name, dtype: dtypeName, shape: shape,
                                expectedBytes: overflow ? Int.max : bytes, actualBytes: end - begin)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    // MARK: - Writing

    /// The safetensors bytes of `tensors` (in the given order), stored as `dtype` unless
    /// `dtypes` names another type for a tensor. Metadata keys are written sorted.
    public static func serialize(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil,
                                 dtype: DType = .f32, dtypes: [String: DType] = [:]) throws -> Data {
        var seen = Set<String>()
        var header = "{"
        if let metadata {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { JSONValue.quoted($0) + ":" + JSONValue.quoted(metadata[$0]!) }
                .joined(separator: ",")
            header += "}"
        }
        var offset = 0
        var layout: [(DType, Int)] = []
        for (name, t) in tensors {
            guard name != "__metadata__" else {
                throw SafeTensorsError.invalidTensorEntry(name: name, reason: "the name is reserved for metadata")
            }
            guard seen.insert(name).inserted else { throw SafeTensorsError.duplicateTensorName(name) }
            let dt = dtypes[name] ?? dtype
            let bytes = t.count * dt.byteSize
            if header.count > 1 { header += "," }
            header += JSONValue.quoted(name) + ":{\"dtype\":\"\(dt.rawValue)\",\"shape\":["
                + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            layout.append((dt, offset))
            offset += bytes
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)   // 8-byte alignment

        var out = Data(count: 8 + headerBytes.count + offset)
        out.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            raw.storeBytes(of: UInt64(headerBytes.count).littleEndian, as: UInt64.self)
            headerBytes.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            let base = raw.baseAddress! + 8 + headerBytes.count
            for ((_, t), (dt, start)) in zip(tensors, layout) { encode(dt, t.data, into: base + start) }
        }
        return out
    }

    /// Writes `tensors` to `url` atomically: the bytes go to a temporary file in the same folder,
    /// which is then renamed over `url` (a failed write leaves nothing half-written).
    /// See ``serialize(_:metadata:dtype:dtypes:)`` for the layout.
    public static func save(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil,
                            dtype: DType = .f32, dtypes: [String: DType] = [:], to url: URL) throws {
        let data = try serialize(tensors, metadata: metadata, dtype: dtype, dtypes: dtypes)
        let dir = url.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temp)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw SafeTensorsError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
        if rename(temp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw SafeTensorsError.writeFailed(path: url.path, reason: reason)
        }
    }
}
