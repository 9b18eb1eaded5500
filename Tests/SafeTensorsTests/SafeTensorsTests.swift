import Foundation
import Testing
import TensorCore
@testable import SafeTensors

/// A file in Tests/SafeTensorsTests/Fixtures (copied into the test bundle).
private func fixtureURL(_ name: String) throws -> URL {
    let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures").appendingPathComponent(name)
    try #require(FileManager.default.fileExists(atPath: url.path), "missing fixture \(name)")
    return url
}

/// A fresh temporary folder, removed by the caller.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Expected contents of Fixtures/mixed_dtypes.safetensors (Fixtures/make_safetensors_fixture.py).
private struct ExpectedTensor: Decodable {
    let dtype: String
    let shape: [Int]
    let values: [Double]
}

/// A safetensors file from a header string and data bytes (`declared` overrides the header length).
private func file(_ header: String, data: [UInt8] = [], declared: UInt64? = nil) -> Data {
    let h = Array(header.utf8)
    var out = Data()
    withUnsafeBytes(of: (declared ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: h)
    out.append(contentsOf: data)
    return out
}

private func tensorEntry(_ name: String, _ shape: [Int], _ begin: Int, _ end: Int, dtype: String = "F32") -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
}

@Suite struct SafeTensorsTests {
    /// A file written by Python's safetensors (F32, F16, BF16, a scalar, an empty tensor, metadata)
    /// loads with the values PyTorch reads as float32, in file order.
    @Test func loadsPythonWrittenFile() throws {
        let url = try fixtureURL("mixed_dtypes.safetensors")
        let expected = try JSONDecoder().decode([String: ExpectedTensor].self,
                                                from: Data(contentsOf: fixtureURL("mixed_dtypes.json")))
        let contents = try SafeTensors.read(contentsOf: url)
        #expect(contents.metadata == ["format": "pt"])
        #expect(contents.tensors.map(\.name) == ["conv.bias", "conv.weight", "empty", "scalar", "brain", "half", "half_specials"])
        #expect(Set(contents.tensors.map(\.name)) == Set(expected.keys))
        let dtypeNames = ["float32": SafeTensors.DType.f32, "float16": .f16, "bfloat16": .bf16]
        for (name, tensor) in contents.tensors {
            let e = try #require(expected[name])
            #expect(tensor.shape == e.shape, "\(name)")
            #expect(tensor.data == e.values.map { Float($0) }, "\(name): values")
            #expect(contents.dtypes[name] == dtypeNames[e.dtype], "\(name): dtype")
            #expect(tensor.name == name)
        }
        #expect(try SafeTensors.loadDictionary(contentsOf: url)["half"]?.shape == [3, 4])
        #expect(try SafeTensors.load(contentsOf: url).count == 7)
    }

    /// Written back from Swift with the same dtypes and metadata, the bytes equal Python's exactly
    /// (header layout, padding, offsets, F16/BF16 encoding).
    @Test func writesTheSameBytesAsPython() throws {
        let original = try Data(contentsOf: fixtureURL("mixed_dtypes.safetensors"))
        let contents = try SafeTensors.parseContents(original)
        let written = try SafeTensors.serialize(contents.tensors, metadata: contents.metadata, dtypes: contents.dtypes)
        #expect(written == original)
    }

    /// save → load round trip through a file; the write is atomic (no temporary file remains).
    @Test func saveLoadRoundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomGenerator(seed: 1)
        let tensors: [(name: String, tensor: Tensor)] = [("b.weight", rng.normal([3, 2, 5])), ("a", rng.normal([7])),
                                                         ("n\"q\\é", Tensor(2.5))]
        let url = dir.appendingPathComponent("w.safetensors")
        try SafeTensors.save(tensors, metadata: ["format": "pt", "note": "line\nbreak"], to: url)
        try SafeTensors.save(tensors, metadata: ["format": "pt", "note": "line\nbreak"], to: url)   // overwrite
        let back = try SafeTensors.read(contentsOf: url)
        #expect(back.tensors.map(\.name) == tensors.map(\.name))
        for (a, b) in zip(back.tensors, tensors) { #expect(a.tensor.shape == b.tensor.shape && a.tensor.data == b.tensor.data) }
        #expect(back.metadata == ["format": "pt", "note": "line\nbreak"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["w.safetensors"])
        let raw = try Data(contentsOf: url)
        let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0, "header padded to 8 bytes")

        // half precision: values round to nearest even
        try SafeTensors.save([("h", Tensor([3], data: [1.00390625, 1.01171875, 0.1]))], dtype: .bf16, to: url)
        #expect(try SafeTensors.load(contentsOf: url)[0].tensor.data == [1, 1.015625, 0.10009765625])
        try SafeTensors.save([("h", Tensor([2], data: [1 + 1.0 / 4096, 65504]))], dtype: .f16, to: url)
        #expect(try SafeTensors.load(contentsOf: url)[0].tensor.data == [1, 65504])
    }

    @Test func writeErrors() throws {
        let t = Tensor([1], data: [1])
        let missing = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/w.safetensors")
        do {
            try SafeTensors.save([("a", t)], to: missing)
            Issue.record("saving into a missing folder succeeded")
        } catch let e as SafeTensorsError {
            guard case .writeFailed(let path, _) = e else { Issue.record("wrong error \(e)"); return }
            #expect(path == missing.path && e.description.contains(missing.path))
        }
        #expect(throws: SafeTensorsError.duplicateTensorName("a")) { _ = try SafeTensors.serialize([("a", t), ("a", t)]) }
        #expect(throws: SafeTensorsError.invalidTensorEntry(name: "__metadata__", reason: "the name is reserved for metadata")) {
            _ = try SafeTensors.serialize([("__metadata__", t)])
        }
    }

    /// Every kind of corruption gives its own error, whose description names the problem.
    @Test func corruptFilesGiveDistinctErrors() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(String, Data, SafeTensorsError, String)] = [
            ("too short", Data([1, 2, 3]), .fileTooShort(byteCount: 3), "too short"),
            ("header length past end", file("{}", declared: 1000), .headerLengthExceedsFile(headerLength: 1000, available: 2), "exceeds"),
            ("truncated JSON", file("{\"a\":{\"dtype\""), .invalidHeaderJSON(reason: "expected ':' at byte 13"), "JSON"),
            ("not an object", file("[1, 2]   "), .invalidHeaderJSON(reason: "the header is an array, not an object"), "not an object"),
            ("bad UTF-8", file("{\"\u{FFFF}\":1}").replacingBytes(at: 10, with: [0xC3, 0x28, 0x20]),
             .invalidHeaderJSON(reason: "invalid UTF-8 in a string at byte 6"), "UTF-8"),
            ("duplicate name", file("{\(tensorEntry("a", [2], 0, 8)),\(tensorEntry("a", [2], 8, 16))}", data: eight + eight),
             .duplicateTensorName("a"), "'a' twice"),
            ("metadata not strings", file("{\"__metadata__\":{\"k\":1}}"),
             .invalidMetadata(reason: "'k' is a number, not a string"), "__metadata__"),
            ("missing shape", file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}"),
             .invalidTensorEntry(name: "w", reason: "missing 'shape'"), "'w'"),
            ("negative extent", file("{\(tensorEntry("w", [-1], 0, 0))}"),
             .invalidTensorEntry(name: "w", reason: "'shape' must hold non-negative integers"), "shape"),
            ("three offsets", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0,0]}}"),
             .invalidTensorEntry(name: "w", reason: "'data_offsets' must be two non-negative integers"), "data_offsets"),
            ("unsupported dtype", file("{\(tensorEntry("w", [1], 0, 8, dtype: "F64"))}", data: eight),
             .unsupportedDType(name: "w", dtype: "F64"), "F64 is not supported"),
            ("unknown dtype", file("{\(tensorEntry("w", [1], 0, 8, dtype: "Q7"))}", data: eight),
             .unsupportedDType(name: "w", dtype: "Q7"), "unknown dtype 'Q7'"),
            ("offsets reversed", file("{\(tensorEntry("w", [1], 8, 4))}", data: eight),
             .invalidOffsets(name: "w", begin: 8, end: 4), "end before"),
            ("offsets past data", file("{\(tensorEntry("w", [16], 0, 64))}", data: eight + eight),
             .offsetsOutOfBounds(name: "w", begin: 0, end: 64, dataLength: 16), "past the data section"),
            ("size mismatch", file("{\(tensorEntry("w", [3], 0, 8))}", data: eight),
             .sizeMismatch(name: "w", dtype: "F32", shape: [3], expectedBytes: 12, actualBytes: 8), "needs 12 bytes"),
            ("overlap", file("{\(tensorEntry("a", [2], 0, 8)),\(tensorEntry("b", [2], 4, 12))}", data: eight + [0, 0, 0, 0]),
             .overlappingTensors(first: "a", second: "b"), "overlap"),
            ("gap", file("{\(tensorEntry("a", [2], 0, 8)),\(tensorEntry("b", [2], 12, 20))}", data: eight + eight + [0, 0, 0, 0]),
             .gapBeforeTensor(name: "b", expectedOffset: 8, actualOffset: 12), "unused bytes"),
            ("trailing bytes", file("{\(tensorEntry("a", [2], 0, 8))}", data: eight + [0, 0, 0, 0]),
             .trailingBytes(count: 4), "4 bytes after"),
        ]
        var seen = Set<String>()
        for (what, data, error, phrase) in cases {
            #expect(throws: error, "\(what)") { _ = try SafeTensors.parse(data) }
            #expect(error.description.contains(phrase), "\(what): '\(error.description)' should mention '\(phrase)'")
            seen.insert(String(describing: error).components(separatedBy: "(").first!)
        }
        #expect(seen.count >= 14, "distinct error cases: \(seen.sorted())")
        #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensors.load(contentsOf: URL(fileURLWithPath: "/nonexistent/model.safetensors"))
        }
        // a well-formed file with unordered header entries and an empty tensor is fine
        let ok = file("{\(tensorEntry("b", [1], 4, 8)),\(tensorEntry("e", [0, 2], 4, 4)),\(tensorEntry("a", [1], 0, 4))}   ", data: eight)
        #expect(try SafeTensors.parse(ok).map(\.name) == ["a", "e", "b"])
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(SafeTensors.bfloat16Bits(1.00390625) == 0x3F80)     // halfway, even below
        #expect(SafeTensors.bfloat16Bits(1.01171875) == 0x3F82)     // halfway, even above
        #expect(SafeTensors.bfloat16Bits(-2) == 0xC000)
        #expect(SafeTensors.bfloat16Bits(.infinity) == 0x7F80)
        #expect(SafeTensors.bfloat16Bits(.nan) & 0x7FC0 == 0x7FC0)
    }
}

private extension Data {
    /// A copy with `bytes` written over the bytes from `offset`.
    func replacingBytes(at offset: Int, with bytes: [UInt8]) -> Data {
        var d = self
        d.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        return d
    }
}

/// Integer buffers of older transformers checkpoints (`position_ids`, I64) read as Float32.
@Suite struct SafeTensorsInt64Tests {
    @Test func readsAndWritesInt64() throws {
        // A file as PyTorch writes `torch.arange(4).unsqueeze(0)` in I64 (little-endian).
        var header = Data(#"{"position_ids":{"dtype":"I64","shape":[1,4],"data_offsets":[0,32]}}"#.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(header)
        for v: Int64 in [0, 1, 2, -76] { withUnsafeBytes(of: v.littleEndian) { file.append(contentsOf: $0) } }
        let contents = try SafeTensors.parseContents(file)
        #expect(contents.tensors[0].tensor.shape == [1, 4])
        #expect(contents.tensors[0].tensor.data == [0, 1, 2, -76])
        #expect(contents.dtypes["position_ids"] == .i64)
        let again = try SafeTensors.parseContents(try SafeTensors.serialize(contents.tensors, dtypes: contents.dtypes))
        #expect(again.tensors[0].tensor.data == [0, 1, 2, -76] && again.dtypes["position_ids"] == .i64)
    }
}
