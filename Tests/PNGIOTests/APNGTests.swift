// Animated PNG: chunk structure, CRCs, frame 0 readable by libpng, every frame recoverable.

import Testing
@testable import PNGIO

@Test func crc32MatchesTheStandardCheckValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
    #expect(CRC32.checksum(Array("6789".utf8), continuing: CRC32.checksum(Array("12345".utf8))) == 0xCBF4_3926)
}

@Test func chunkParserChecksCRCs() throws {
    var bytes = try PNG.encode(PNGImage(width: 2, height: 2, channels: 1))
    #expect(try PNGChunks.serialize(PNGChunks.parse(bytes)) == bytes)
    bytes[8 + 8 + 3] ^= 1                                     // inside IHDR's data
    #expect(pngError { _ = try PNGChunks.parse(bytes) } != nil)
}

private let frames = (0..<4).map { noiseImage(width: 9, height: 6, channels: 4, seed: UInt32(40 + $0)) }

/// The big-endian integer of `bytes[at..<at+4]`.
private func u32(_ bytes: [UInt8], _ at: Int) -> Int { Int(PNGChunks.readUInt32(bytes, at)) }
private func u16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }

@Test func chunkStructureFollowsTheAPNGSpec() throws {
    let chunks = try PNGChunks.parse(APNG.encode(frames: frames, delayMs: 80, loops: 3))   // CRCs checked here
    let types = chunks.map(\.type)
    #expect(types.first == "IHDR" && types.last == "IEND")
    let actl = try #require(types.firstIndex(of: "acTL"))
    let firstIDAT = try #require(types.firstIndex(of: "IDAT"))
    #expect(actl < firstIDAT)
    #expect(chunks[actl].data == [0, 0, 0, 4, 0, 0, 0, 3])               // 4 frames, 3 plays
    #expect(types.filter { $0 == "fcTL" }.count == 4)
    #expect(types[firstIDAT - 1] == "fcTL")                              // frame 0's fcTL precedes IDAT
    #expect(types.lastIndex(of: "IDAT")! < types.firstIndex(of: "fdAT")!)

    // Sequence numbers run 0, 1, 2, … over fcTL and fdAT in file order.
    let sequenced = chunks.filter { $0.type == "fcTL" || $0.type == "fdAT" }
    #expect(sequenced.map { u32($0.data, 0) } == Array(0..<sequenced.count))

    for control in chunks where control.type == "fcTL" {
        #expect(control.data.count == 26)
        #expect(u32(control.data, 4) == 9 && u32(control.data, 8) == 6)          // full canvas
        #expect(u32(control.data, 12) == 0 && u32(control.data, 16) == 0)        // offsets
        #expect(u16(control.data, 20) == 80 && u16(control.data, 22) == 1000)    // 80/1000 s
        #expect(control.data[24] == 0 && control.data[25] == 0)                  // dispose none, blend source
    }
}

@Test func firstFrameDecodesThroughLibPNG() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.path + "/turntable.png"
    try APNG.write(frames: frames, delayMs: 50, to: path)
    #expect(try PNG.read(path) == frames[0])
    #expect(try folder.contents() == ["turntable.png"])
}

@Test func everyEmbeddedFrameDecodesBack() throws {
    let chunks = try PNGChunks.parse(APNG.encode(frames: frames, delayMs: 50))
    // Split the frame data at each fcTL; fdAT payloads start with a 4-byte sequence number.
    var frameData: [[UInt8]] = []
    for chunk in chunks {
        switch chunk.type {
        case "fcTL": frameData.append([])
        case "IDAT": frameData[frameData.count - 1] += chunk.data
        case "fdAT": frameData[frameData.count - 1] += chunk.data.dropFirst(4)
        default: break
        }
    }
    #expect(frameData.count == frames.count)
    for (k, data) in frameData.enumerated() {
        let png = PNGChunks.serialize([chunks[0], PNGChunk(type: "IDAT", data: data), PNGChunk(type: "IEND", data: [])])
        #expect(try PNG.decode(png) == frames[k], "frame \(k)")
    }
}

@Test func singleFrameAnimationIsAPlainPNGToo() throws {
    let bytes = try APNG.encode(frames: [frames[1]], delayMs: 0)
    #expect(try PNG.decode(bytes) == frames[1])
    #expect(try PNGChunks.parse(bytes).map(\.type).filter { $0 == "fdAT" }.isEmpty)
}

@Test func invalidAnimationsThrow() {
    let other = PNGImage(width: 3, height: 3, channels: 4)
    let grey = PNGImage(width: 9, height: 6, channels: 1)
    for (bad, delay) in [([PNGImage](), 10), ([frames[0], other], 10), ([frames[0], grey], 10),
                         (frames, 70_000), (frames, -1)] {
        guard case .invalidImage? = pngError({ _ = try APNG.encode(frames: bad, delayMs: delay) }) else {
            Issue.record("accepted \(bad.count) frames with delay \(delay)"); continue
        }
    }
    #expect(pngError { _ = try APNG.encode(frames: frames, delayMs: 10, loops: -2) } != nil)
}
