import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The renderer end to end: limiting cases, layout, and derivatives in the field's parameters.
@Suite struct NeRFRendererTests {
    static func randomField(resolution: Int, seed: UInt64, bias: Float = -1) -> VoxelGridField {
        var rng = RandomGenerator(seed: seed)
        let n = resolution
        return VoxelGridField(density: rng.uniform([1, 1, n, n, n], in: -1...1),
                              color: rng.uniform([1, 3, n, n, n], in: -1...1), densityBias: bias)
    }

    @Test func emptyFieldShowsTheBackground() {
        let field = VoxelGridField(resolution: 4, densityBias: -40)
        let bg = Tensor.parameter([3], data: [0.2, -0.4, 0.9])
        let out = NeRFRenderer(samplesPerRay: 8, background: .learned(bg))
            .render(field, view: OrbitView(azimuth: 0.5), width: 6, height: 5)
        #expect(out.image.shape == [3, 5, 6] && out.opacity.shape == [5, 6] && out.depth.shape == [5, 6])
        for c in 0..<3 { #expect(out.image.data[(c * 30)..<(c * 30 + 30)].allSatisfy { abs($0 - bg.data[c]) < 1e-5 }) }
        #expect(out.opacity.data.allSatisfy { $0 < 1e-5 })
        out.image.sum().backward()
        assertClose(bg.grad!, [30, 30, 30], rtol: 1e-4, atol: 0, "∂/∂background")
    }

    /// A learned background is one of the NeRF diffrep's parameters (after the field's), so the
    /// samplers and checkpoints see it; a fixed colour adds none.
    @Test func learnedBackgroundIsADiffrepParameter() {
        let field = VoxelGridField(resolution: 4, densityBias: -40)    // empty: every pixel shows the background
        let bg = Tensor.parameter([3], data: [0.2, -0.4, 0.9])
        let nerf = NeRFDiffrep(field: field, imageSize: 4,
                               renderer: NeRFRenderer(samplesPerRay: 8, background: .learned(bg)))
        #expect(nerf.parameters.names == field.parameters.names + ["background"])
        #expect(nerf.parameters["background"] === bg)
        #expect(NeRFDiffrep(field: field, imageSize: 4).parameters.names == field.parameters.names)
        nerf.parameters.zeroGrad()
        nerf.render([OrbitView(azimuth: 0.5)]).sum().backward()
        assertClose(nerf.parameters["background"]?.grad ?? [], [16, 16, 16], rtol: 1e-4, atol: 0, "∂/∂background")
    }

    @Test func opaqueUniformFieldShowsItsColourAtTheBoxSurface() {
        let n = 4
        let field = VoxelGridField(density: Tensor([1, 1, n, n, n], repeating: 0),
                                   color: Tensor([1, 3, n, n, n], data: (0..<(3 * n * n * n)).map { Float($0 / (n * n * n)) - 1 }),
                                   densityBias: 8)   // σ ≈ 3000: opaque at the first sample
        let view = OrbitView(azimuth: 0, elevation: 0)
        let out = NeRFRenderer(samplesPerRay: 32).render(field, view: view, width: 5, height: 5)
        // Rays that hit the box show tanh(−1), tanh(0), tanh(1); the centre ray hits at t = 2.5.
        let centre = 12
        assertClose([out.image.data[centre], out.image.data[25 + centre], out.image.data[50 + centre]],
                    [Foundation.tanh(-1), 0, Foundation.tanh(1)], atol: 1e-5, "centre colour")
        #expect(abs(out.opacity.data[centre] - 1) < 1e-6)
        let binWidth: Float = 3.0 / 32
        #expect(abs(out.depth.data[centre] - (2.5 + 0.5 * binWidth)) < 1e-3)
    }

    @Test func imageLayoutMatchesRayOrder() {
        let field = Self.randomField(resolution: 5, seed: 1)
        let renderer = NeRFRenderer(samplesPerRay: 12)
        let view = OrbitView(azimuth: 2.1, elevation: 0.4)
        let img = renderer.render(field, view: view, width: 4, height: 3)
        let rays = renderer.render(field, rays: Rays(view: view, width: 4, height: 3))
        for row in 0..<3 { for col in 0..<4 { for c in 0..<3 {
            #expect(img.image.data[(c * 3 + row) * 4 + col] == rays.color.data[(row * 4 + col) * 3 + c])
        }}}
        #expect(img.depth.data == rays.depth.data && img.opacity.data == rays.opacity.data)
    }

    @Test func jitterFollowsTheSeed() {
        let field = Self.randomField(resolution: 4, seed: 2)
        let renderer = NeRFRenderer(samplesPerRay: 8)
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9), c = RandomGenerator(seed: 10)
        let view = OrbitView(azimuth: 1)
        let x = renderer.render(field, view: view, width: 4, height: 4, using: &a).image.data
        #expect(x == renderer.render(field, view: view, width: 4, height: 4, using: &b).image.data)
        #expect(x != renderer.render(field, view: view, width: 4, height: 4, using: &c).image.data)
    }

    @Test(arguments: ["image", "opacity", "depth"])
    func finiteDifferencesAndJVPEndToEnd(_ output: String) {
        // A 3³ grid seen through 4×4 rays: few enough parameters for central differences on all.
        for activation in [VoxelGridField.DensityActivation.exp, .softplus] {
            let field = Self.randomField(resolution: 3, seed: 3)
            field.densityActivation = activation
            let bg = Tensor.parameter([3], data: [0.5, 1, -0.2])
            let renderer = NeRFRenderer(samplesPerRay: 10, background: .learned(bg))
            let view = OrbitView(azimuth: 0.6, elevation: 0.3, radius: 3)
            let inputs = output == "image" ? [field.density, field.color, bg] : [field.density]
            checkDerivatives(inputs, epsilon: 1e-2, tolerance: 2e-2, "\(output) \(activation)") { _ in
                let out = renderer.render(field, view: view, width: 4, height: 4)
                return output == "image" ? out.image : (output == "opacity" ? out.opacity : out.depth)
            }
        }
    }

    @Test func jvpAgainstVJPOnARealisticSize() {
        // The pullback sampler's use: tangents on the grids, a 16×16 view, 32 samples, 16³ grid.
        let field = Self.randomField(resolution: 16, seed: 4, bias: 0)
        let renderer = NeRFRenderer(samplesPerRay: 32)
        let (jv, vj) = GradientCheck.jvpAgainstVJP(field.parameters.tensors) { _ in
            renderer.render(field, view: OrbitView(azimuth: 4, elevation: 0.2), width: 16, height: 16).image
        }
        #expect(abs(jv - vj) <= 1e-4 * max(1, abs(jv)), "⟨Jv,u⟩ = \(jv) vs ⟨v,Jᵀu⟩ = \(vj)")
        #expect(abs(jv) > 1e-3)
    }
}
