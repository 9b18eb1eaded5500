// The chunk layer of the PNG format: signature, then (length, type, data, CRC) records.

/// One PNG chunk: a four-letter type such as `"IHDR"` and its data (length and CRC are implied).
struct PNGChunk: Equatable {
    var type: String
    var data: [UInt8]
}

enum PNGChunks {
    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Splits PNG bytes into chunks, checking the signature, every length and every CRC;
    /// stops after `IEND`.
    /// - Throws: ``PNGError/read(path:message:)`` (path `"<memory>"`) on any inconsistency.
    static func parse(_ bytes: [UInt8]) throws -> [PNGChunk] {
        func fail(_ message: String) -> PNGError { .read(path: "<memory>", message: message) }
        guard bytes.starts(with: signature) else { throw fail("Not a PNG file") }
        var chunks: [PNGChunk] = [], at = signature.count
        while chunks.last?.type != "IEND" {
            guard bytes.count - at >= 12 else { throw fail("truncated chunk at byte \(at)") }
            let length = Int(readUInt32(bytes, at))
            guard length <= bytes.count - at - 12 else { throw fail("truncated chunk at byte \(at)") }
            let typeAndData = bytes[(at + 4)..<(at + 8 + length)]
            guard CRC32.checksum(typeAndData) == readUInt32(bytes, at + 8 + length) else {
                throw fail("CRC error in chunk at byte \(at)")
            }
            chunks.append(PNGChunk(type: String(decoding: typeAndData.prefix(4), as: UTF8.self),
                                   data: Array(typeAndData.dropFirst(4))))
            at += 12 + length
        }
        return chunks
    }

    /// The bytes of a PNG file holding `chunks` (signature, then each chunk with its CRC).
    static func serialize(_ chunks: [PNGChunk]) -> [UInt8] {
        var out = signature
        for chunk in chunks {
            let typeAndData = Array(chunk.type.utf8) + chunk.data
            appendUInt32(UInt32(chunk.data.count), to: &out)
            out += typeAndData
            appendUInt32(CRC32.checksum(typeAndData), to: &out)
        }
        return out
    }

    /// Appends `value` big-endian (PNG's byte order).
    static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// Appends `value` big-endian.
    static func appendUInt16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    /// The big-endian `UInt32` at `offset`.
    static func readUInt32(_ bytes: some Collection<UInt8>, _ offset: Int) -> UInt32 {
        let start = bytes.index(bytes.startIndex, offsetBy: offset)
        return bytes[start...].prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}
