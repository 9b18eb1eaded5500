// Tensors [C, H, W] in [-1, 1] ↔ 8-bit images.

import Testing
import TensorCore
@testable import PNGIO

@Test func byteAndValueInvertEachOtherExactly() {
    for v in 0...255 {
        let x = PNGImage.value(UInt8(v))
        #expect(x >= -1 && x <= 1)
        #expect(PNGImage.byte(x) == UInt8(v))
    }
    #expect(PNGImage.value(0) == -1 && PNGImage.value(255) == 1)
}

@Test func tensorValuesAreClampedAndRounded() throws {
    let xs: [Float] = [-5, -1, 0, 1, 7, .nan, 0.5, -0.5, .infinity, -.infinity, -0.99, 0.999]
    let image = try PNGImage(tensor: Tensor([1, 1, xs.count], data: xs))
    // round((x+1)/2·255): 0.5 → 191.25 → 191, -0.5 → 63.75 → 64, -0.99 → 1.275 → 1, 0.999 → 254.87 → 255
    #expect(image.pixels == [0, 0, 128, 255, 255, 0, 191, 64, 255, 0, 1, 255])
}

@Test func channelsAreInterleavedFromPlanes() throws {
    let (c, h, w) = (3, 2, 4)
    let data = (0..<(c * h * w)).map { Float($0) / Float(c * h * w) * 2 - 1 }
    let image = try PNGImage(tensor: Tensor([c, h, w], data: data))   // [C, H, W]
    #expect(image.width == w && image.height == h && image.channels == c)
    for ch in 0..<c {
        for y in 0..<h {
            for x in 0..<w { #expect(image[x, y, ch] == PNGImage.byte(data[(ch * h + y) * w + x])) }
        }
    }
    let back = image.tensor()
    #expect(back.shape == [c, h, w])
    #expect(zip(back.data, data).allSatisfy { abs($0 - $1) <= 1 / 255 + 1e-6 })
}

@Test func tensorRoundTripsThroughAFile() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    for c in 1...4 {
        let x = Tensor([c, 5, 6], data: (0..<(c * 30)).map { Float(($0 * 37) % 61) / 30 - 1 })
        let path = folder.path + "/t\(c).png"
        try PNG.write(x, to: path)
        let y = try PNG.readTensor(path)
        #expect(y.shape == x.shape)
        #expect(zip(y.data, x.data).allSatisfy { abs($0 - $1) <= 1 / 255 + 1e-6 })
    }
    #expect(try PNG.readTensor(folder.path + "/t1.png", channels: 3).shape == [3, 5, 6])
}

@Test func wrongTensorShapesThrow() {
    for shape in [[5, 2, 2], [2, 2], [1, 3, 2, 2], [0, 2, 2]] {
        let x = Tensor.zeros(shape)
        guard case .invalidImage? = pngError({ _ = try PNGImage(tensor: x) }) else {
            Issue.record("shape \(shape) was accepted"); continue
        }
    }
}
