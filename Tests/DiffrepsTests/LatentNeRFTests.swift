import Foundation
import Testing
import TensorCore
import TestSupport
@testable import Diffreps

/// A latent NeRF (``NeRFDiffrep/latent(field:imageSize:background:colorScale:renderer:)``): four
/// colour channels rendered at the latent size, scaled by the colour scale, over a background
/// given in latents; derivatives of that render against finite differences.
@Suite struct LatentNeRFTests {
    static func field(seed: UInt64) -> VoxelGridField {
        var rng = RandomGenerator(seed: seed)
        let n = 4
        return VoxelGridField(density: Tensor([1, 1, n, n, n], data: rng.uniformValues(n * n * n).map { 4 * $0 }),
                              color: Tensor([1, 4, n, n, n], data: rng.normalValues(4 * n * n * n)))
    }

    @Test func rendersScaledLatentsOverTheBackground() {
        let background: [Float] = [1.5, -0.5, 2.5, -3]
        let nerf = NeRFDiffrep.latent(field: Self.field(seed: 1), imageSize: 6, background: background,
                                      renderer: NeRFRenderer(samplesPerRay: 12))
        let views = nerf.turntable(frames: 3)
        let latents = nerf.render(views)                                            // [3, 4, 6, 6]
        #expect(latents.shape == [3, 4, 6, 6])
        // The same field rendered plainly, then scaled by 4 with the background in scaled units, is the same render.
        let plain = NeRFDiffrep(field: nerf.field, imageSize: 6,
                                renderer: NeRFRenderer(samplesPerRay: 12, background: .color(background.map { $0 / 4 })))
        #expect(largestDifference(latents.data, plain.render(views).data.map { 4 * $0 }) <= 1e-5)
        // Beyond ±1: the scale lets the latents leave the [-1, 1] of image colours.
        #expect(latents.data.contains { abs($0) > 1.2 })
        // An empty field shows the background latents exactly.
        let empty = NeRFDiffrep.latent(field: VoxelGridField(resolution: 4, channels: 4), imageSize: 3, background: background)
        empty.field.parameters["density"]!.data = [Float](repeating: -30, count: 64)
        let bg = empty.render(Array(views.prefix(1))).data
        for ch in 0..<4 { #expect(bg[ch * 9..<(ch + 1) * 9].allSatisfy { abs($0 - background[ch]) <= 1e-4 }) }
        // decodedView hands the decoder the render at the latent size.
        var seen: [Int] = []
        let picture = nerf.decodedView(views[0]) { z in seen = z.shape; return z.slice(axis: 1, 0..<3) }
        #expect(seen == [1, 4, 6, 6] && picture.shape == [3, 6, 6])
    }

    @Test func renderDerivatives() {
        let nerf = NeRFDiffrep.latent(field: Self.field(seed: 2), imageSize: 3, background: [0.5, -1, 2, 0],
                                      renderer: NeRFRenderer(samplesPerRay: 6))
        let views = nerf.turntable(frames: 2)
        let (density, color) = (nerf.field.parameters["density"]!, nerf.field.parameters["color"]!)
        checkDerivatives([density, color], epsilon: 1e-2, tolerance: 2e-2, "latent NeRF render") { inputs in
            let field = VoxelGridField(density: inputs[0], color: inputs[1])
            let n = NeRFDiffrep.latent(field: field, imageSize: 3, background: [0.5, -1, 2, 0], renderer: NeRFRenderer(samplesPerRay: 6))
            return n.render(views)
        }
    }
}

/// max |a − b|
private func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
