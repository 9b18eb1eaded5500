// Reading every PNG format from the committed fixtures, and writing each back.

import Testing
@testable import PNGIO

/// The patterns make_fixtures.py writes (7×5 pixels); keep in sync with Fixtures/make_fixtures.py.
enum FixturePattern {
    static let width = 7, height = 5
    static let palette: [[UInt8]] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 200, 0],
                                     [10, 20, 250], [128, 64, 32], [7, 140, 230]]
    static let alphas: [UInt8] = [255, 0, 128, 64, 200, 1, 254]

    static func v8(_ x: Int, _ y: Int, _ c: Int) -> Int { (37 * x + 91 * y + 53 * c + 11) % 256 }
    static func v16(_ x: Int, _ y: Int, _ c: Int) -> Int {
        min(max(257 * v8(x, y, c) + (13 * x + 7 * y + 3 * c) % 200 - 100, 0), 65535)
    }

    /// The 8-bit image a fixture should decode to.
    static func expected(_ name: String) -> PNGImage {
        if name.hasPrefix("palette") {
            let alpha = name.contains("trns")
            var image = PNGImage(width: width, height: height, channels: alpha ? 4 : 3)
            for y in 0..<height {
                for x in 0..<width {
                    let i = (x + 2 * y) % 7
                    for c in 0..<3 { image[x, y, c] = palette[i][c] }
                    if alpha { image[x, y, 3] = alphas[i] }
                }
            }
            return image
        }
        let channels = name.hasPrefix("gray_alpha") ? 2 : name.hasPrefix("gray") ? 1 : name.hasPrefix("rgba") ? 4 : 3
        let sixteen = name.hasSuffix("16.png")
        var image = PNGImage(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let v = sixteen ? (Double(v16(x, y, c)) / 257).rounded() : Double(v8(x, y, c))
                    image[x, y, c] = UInt8(v)
                }
            }
        }
        return image
    }
}

let fixtureNames = ["gray8.png", "gray16.png", "gray_alpha8.png", "gray_alpha16.png", "rgb8.png", "rgb16.png",
                    "rgba8.png", "rgba16.png", "palette8.png", "palette8_trns.png"]

@Test(arguments: fixtureNames)
func readsFixtureExactly(name: String) throws {
    let image = try PNG.read(fixturePath(name))
    let want = FixturePattern.expected(name)
    #expect(image.width == 7 && image.height == 5 && image.channels == want.channels)
    let worst = zip(image.pixels, want.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 99
    #expect(worst == 0, "\(name): largest byte difference \(worst)")
}

@Test(arguments: fixtureNames)
func roundTripsThroughFileAndMemory(name: String) throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let image = try PNG.read(fixturePath(name))
    let path = folder.path + "/copy.png"
    try PNG.write(image, to: path)
    #expect(try PNG.read(path) == image)
    #expect(try PNG.decode(PNG.encode(image)) == image)
    #expect(try folder.contents() == ["copy.png"])
}

@Test func writesEveryChannelCountLosslessly() throws {
    for channels in 1...4 {
        let image = noiseImage(width: 13, height: 9, channels: channels, seed: UInt32(channels))
        let bytes = try PNG.encode(image)
        #expect(Array(bytes.prefix(8)) == PNGChunks.signature)
        #expect(try PNG.decode(bytes) == image)
    }
}

@Test func convertsChannelsOnRead() throws {
    // Grey → RGB replicates the value; RGB with equal components → grey gives it back.
    let grey = try PNG.read(fixturePath("gray8.png"))
    let greyAsRGB = try PNG.read(fixturePath("gray8.png"), channels: 3)
    #expect(greyAsRGB.pixels == grey.pixels.flatMap { [$0, $0, $0] })
    #expect(try PNG.decode(PNG.encode(greyAsRGB), channels: 1) == grey)

    // RGB → RGBA adds opaque alpha; RGB → grey gives one channel.
    let rgb = try PNG.read(fixturePath("rgb8.png"))
    let rgba = try PNG.read(fixturePath("rgb8.png"), channels: 4)
    var opaque: [UInt8] = []
    for i in 0..<(7 * 5) { opaque += rgb.pixels[(3 * i)..<(3 * i + 3)] + [255] }
    #expect(rgba.pixels == opaque)
    #expect(try PNG.read(fixturePath("rgb8.png"), channels: 1).channels == 1)

    // Alpha removed by compositing on white: opaque pixels keep their colour, clear ones turn white.
    let flat = try PNG.read(fixturePath("palette8_trns.png"), channels: 3)
    let want = FixturePattern.expected("palette8.png")
    for y in 0..<5 {
        for x in 0..<7 {
            let a = FixturePattern.alphas[(x + 2 * y) % 7]
            for c in 0..<3 where a == 255 || a == 0 {
                #expect(flat[x, y, c] == (a == 255 ? want[x, y, c] : 255))
            }
        }
    }
    #expect(pngError { _ = try PNG.read(fixturePath("rgb8.png"), channels: 5) } == .invalidImage(
        message: "PNG images have 1...4 channels, asked for 5"))
}
