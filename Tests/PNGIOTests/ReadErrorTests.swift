// Bad input to the reader: every case is a thrown PNGError.read carrying a message, never a crash.

import Foundation
import Testing
@testable import PNGIO

/// Writes `bytes` to a scratch file, reads it back, and returns the reader's error.
private func readError(of bytes: [UInt8]) throws -> (path: String, error: PNGError?, memory: PNGError?) {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.path + "/bad.png"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return (path, pngError { _ = try PNG.read(path) }, pngError { _ = try PNG.decode(bytes) })
}

/// Whether `error` is a read error for `path` whose message contains `text` (case-insensitive).
private func isReadError(_ error: PNGError?, path: String, mentioning text: String = "") -> Bool {
    guard case let .read(p, message)? = error else { return false }
    return p == path && !message.isEmpty && (text.isEmpty || message.lowercased().contains(text.lowercased()))
}

@Test func missingFileThrows() throws {
    let path = "/nonexistent-\(UUID().uuidString)/none.png"
    let error = pngError { _ = try PNG.read(path) }
    #expect(isReadError(error, path: path, mentioning: "no such file"), "\(String(describing: error))")
}

@Test func nonPNGFileThrows() throws {
    for bytes in [Array("this is a text file, not an image\n".utf8), [], [0x89, 0x50]] {
        let (path, error, memory) = try readError(of: bytes)
        #expect(isReadError(error, path: path), "\(String(describing: error))")
        #expect(isReadError(memory, path: "<memory>"), "\(String(describing: memory))")
    }
    let (path, error, _) = try readError(of: Array("GIF89a and then quite a few more bytes".utf8))
    #expect(isReadError(error, path: path, mentioning: "not a png"), "\(String(describing: error))")
}

@Test func truncatedFileThrows() throws {
    let bytes = try PNG.encode(noiseImage(width: 32, height: 32, channels: 3, seed: 7))
    for cut in [9, 20, 40, bytes.count / 2, bytes.count - 20] {
        let (path, error, memory) = try readError(of: Array(bytes.prefix(cut)))
        #expect(isReadError(error, path: path), "cut at \(cut): \(String(describing: error))")
        #expect(isReadError(memory, path: "<memory>"), "cut at \(cut): \(String(describing: memory))")
    }
}

@Test func corruptDataThrows() throws {
    let image = noiseImage(width: 32, height: 32, channels: 4, seed: 3)
    let chunks = try PNGChunks.parse(PNG.encode(image))
    let idat = try #require(chunks.firstIndex { $0.type == "IDAT" })

    // A flipped byte inside IDAT (zlib's own check trips before the chunk's CRC is reached).
    var bytes = PNGChunks.serialize(chunks)
    let idatOffset = 8 + chunks[..<idat].reduce(0) { $0 + 12 + $1.data.count }
    bytes[idatOffset + 8 + 100] ^= 0x5A
    var (path, error, memory) = try readError(of: bytes)
    #expect(isReadError(error, path: path), "\(String(describing: error))")
    #expect(isReadError(memory, path: "<memory>"), "\(String(describing: memory))")

    // A wrong CRC on the header.
    bytes = PNGChunks.serialize(chunks)
    bytes[8 + 8 + 13] ^= 0xFF
    (path, error, memory) = try readError(of: bytes)
    #expect(isReadError(error, path: path, mentioning: "crc"), "\(String(describing: error))")
    #expect(isReadError(memory, path: "<memory>", mentioning: "crc"), "\(String(describing: memory))")

    // Garbage compressed data with a valid CRC: zlib itself rejects it.
    var garbled = chunks
    garbled[idat].data = (0..<garbled[idat].data.count).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
    (path, error, memory) = try readError(of: PNGChunks.serialize(garbled))
    #expect(isReadError(error, path: path), "\(String(describing: error))")
    #expect(isReadError(memory, path: "<memory>"), "\(String(describing: memory))")

    // A header with an invalid colour type / bit depth pair.
    var badHeader = chunks
    badHeader[0].data[8] = 3; badHeader[0].data[9] = 6      // bit depth 3, colour type RGBA
    (path, error, memory) = try readError(of: PNGChunks.serialize(badHeader))
    #expect(isReadError(error, path: path), "\(String(describing: error))")
}

@Test func oversizedHeaderThrowsInsteadOfAllocating() throws {
    var chunks = try PNGChunks.parse(PNG.encode(PNGImage(width: 1, height: 1, channels: 3)))
    var header: [UInt8] = []
    PNGChunks.appendUInt32(100_000, to: &header)            // 100 000 × 100 000 RGB = 30 GB
    PNGChunks.appendUInt32(100_000, to: &header)
    chunks[0].data.replaceSubrange(0..<8, with: header)
    let (path, error, _) = try readError(of: PNGChunks.serialize(chunks))
    #expect(isReadError(error, path: path, mentioning: "too large"), "\(String(describing: error))")
}

/// Found while seeding the png_decode fuzz target (the input is in its corpus as
/// oom-tiny-file-huge-header.png; the fuzzer flags it as out-of-memory): a 69-byte file whose
/// header claims 16 000 × 16 000 RGBA made the reader allocate 1 GB before libpng found the data
/// missing. No deflate stream that short can hold that many pixels.
@Test func tinyFileWithAHugeHeaderThrowsBeforeAllocating() throws {
    var chunks = try PNGChunks.parse(PNG.encode(PNGImage(width: 1, height: 1, channels: 4)))
    var header: [UInt8] = []
    PNGChunks.appendUInt32(16_000, to: &header)
    PNGChunks.appendUInt32(16_000, to: &header)
    chunks[0].data.replaceSubrange(0..<8, with: header)
    let bytes = PNGChunks.serialize(chunks)
    #expect(PNG.maxPixelCount >= 16_000 * 16_000, "the header must pass the pixel-count limit to test the size check")
    let message = "the header claims 16000×16000 pixels, more than \(bytes.count) bytes of PNG can hold (truncated or corrupt)"
    let (path, error, memory) = try readError(of: bytes)
    #expect(error == .read(path: path, message: message))
    #expect(memory == .read(path: "<memory>", message: message))
}

@Test func sizeCheckAcceptsHighlyCompressibleImages() throws {
    // 2048 × 2048 grey zeros compress to a few kB: well within the deflate bound.
    let bytes = try PNG.encode(PNGImage(width: 2048, height: 2048, channels: 1))
    #expect(PNG.canHold(width: 2048, height: 2048, byteCount: bytes.count))
    #expect(try PNG.decode(bytes).width == 2048)
}
