import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The voxel grid's fused render path against the tape path (sampler, interpolation and
/// compositor as separate ops), which stays the reference: values, gradients and tangents.
@Suite struct VoxelGridRayMarcherTests {
    static let fused = NeRFRenderer.VoxelGridPath.fused(transmittanceThreshold: 0)

    /// A 6³ grid with dense and empty regions (bias −1: some rays turn opaque, some stay clear).
    static func field(seed: UInt64, activation: VoxelGridField.DensityActivation = .exp, bias: Float = -1) -> VoxelGridField {
        var rng = RandomGenerator(seed: seed)
        let n = 6
        let density = rng.uniform([1, 1, n, n, n], in: -3...3)
        return VoxelGridField(density: density, color: rng.uniform([1, 3, n, n, n], in: -1.5...1.5),
                              densityBias: bias, densityActivation: activation)
    }

    /// 5×4 rays of an orbit view plus two that miss the box and one that starts inside it.
    static var rays: Rays {
        let view = Rays(view: OrbitView(azimuth: 0.7, elevation: 0.3, radius: 3.2), width: 5, height: 4)
        let extra = Rays(origins: Tensor([3, 3], data: [0, 3, 0, 4, 0, 0, 0.2, -0.1, 0.3]),
                         directions: Tensor([3, 3], data: [0, 1, 0, 0, 0, 1, 0.6, 0.0, -0.8]))
        return Rays(origins: Tensor.concat([view.origins, extra.origins], axis: 0),
                    directions: Tensor.concat([view.directions, extra.directions], axis: 0))
    }

    struct Rendered {
        var color: [Float], opacity: [Float], depth: [Float]
        var dDensity: [Float], dColor: [Float], dBackground: [Float]
    }

    /// Renders `rays` on `path` and back-propagates fixed random cotangents from all three outputs.
    static func render(_ field: VoxelGridField, path: NeRFRenderer.VoxelGridPath, jitter: Bool, rays: Rays = rays) -> Rendered {
        let bg = Tensor.parameter([3], data: [0.3, -0.2, 0.9])
        let renderer = NeRFRenderer(samplesPerRay: 24, background: .learned(bg), voxelGridPath: path)
        field.parameters.zeroGrad()
        var rng = RandomGenerator(seed: 11)
        let out = jitter ? renderer.render(field, rays: rays, using: &rng) : renderer.render(field, rays: rays)
        var cot = RandomGenerator(seed: 12)
        let loss = (out.color * cot.normal(out.color.shape)).sum() + (out.opacity * cot.normal(out.opacity.shape)).sum()
            + (out.depth * cot.normal(out.depth.shape)).sum()
        loss.backward()
        defer { field.parameters.zeroGrad() }
        return Rendered(color: out.color.data, opacity: out.opacity.data, depth: out.depth.data,
                        dDensity: field.density.grad!, dColor: field.color.grad!, dBackground: bg.grad!)
    }

    @Test(arguments: [false, true])
    func withoutTerminationFusedEqualsTape(jitter: Bool) {
        for activation in [VoxelGridField.DensityActivation.exp, .softplus] {
            let field = Self.field(seed: 1, activation: activation)
            let tape = Self.render(field, path: .tape, jitter: jitter)
            let fused = Self.render(field, path: Self.fused, jitter: jitter)
            // The same operations in the same order but for α's exp (FastMath's, not libm's).
            assertClose(fused.color, tape.color, rtol: 1e-6, atol: 1e-6, "\(activation) colour")
            assertClose(fused.opacity, tape.opacity, rtol: 1e-6, atol: 1e-6, "\(activation) opacity")
            assertClose(fused.depth, tape.depth, rtol: 1e-6, atol: 1e-6, "\(activation) depth")
            // Gradients: the same terms, summed in a different grouping.
            assertClose(fused.dDensity, tape.dDensity, rtol: 1e-5, atol: 1e-6, "\(activation) ∂/∂density")
            assertClose(fused.dColor, tape.dColor, rtol: 1e-5, atol: 1e-6, "\(activation) ∂/∂colour")
            assertClose(fused.dBackground, tape.dBackground, rtol: 1e-5, atol: 1e-6, "\(activation) ∂/∂background")
            #expect(tape.dDensity.contains { abs($0) > 1e-2 } && tape.dColor.contains { abs($0) > 1e-2 })
        }
    }

    @Test func withoutTerminationTangentsEqualTape() {
        let field = Self.field(seed: 2)
        let bg = Tensor.parameter([3], data: [0.3, -0.2, 0.9])
        var rng = RandomGenerator(seed: 5)
        let tangents = [rng.normalValues(field.density.count), rng.normalValues(field.color.count), rng.normalValues(3)]
        func tangentsOf(_ path: NeRFRenderer.VoxelGridPath) -> [[Float]] {
            for (t, v) in zip([field.density, field.color, bg], tangents) { t.tangent = v }
            defer { for t in [field.density, field.color, bg] { t.tangent = nil } }
            let out = NeRFRenderer(samplesPerRay: 24, background: .learned(bg), voxelGridPath: path).render(field, rays: Self.rays)
            return [out.color.tangent!, out.opacity.tangent!, out.depth.tangent!]
        }
        for (f, t, name) in zip3(tangentsOf(Self.fused), tangentsOf(.tape), ["colour", "opacity", "depth"]) {
            assertClose(f, t, rtol: 1e-5, atol: 1e-6, "\(name) tangent")
        }
    }

    @Test func terminationChangesValuesByLessThanTheThreshold() {
        let field = Self.field(seed: 3, bias: 1)
        let tape = Self.render(field, path: .tape, jitter: false)
        let fused = Self.render(field, path: .fused(transmittanceThreshold: 1e-3), jitter: false)
        // Colours in [-1, 1] and a background in it: the light left behind is < 1e-3 of a range of 2.
        assertClose(fused.color, tape.color, rtol: 0, atol: 2e-3, "colour")
        assertClose(fused.opacity, tape.opacity, rtol: 0, atol: 1e-3, "opacity")
        #expect(fused.color != tape.color, "some ray stopped early")
    }

    @Test func aStoppedRaySendsNoGradientBehindTheSurface() {
        // An opaque slab in the front half of the box (z > 0) seen from +z: everything behind it
        // (z < 0) gets a gradient on the tape path, and none once rays stop at the slab.
        let n = 6
        var density = [Float](repeating: -2, count: n * n * n)
        for z in 4..<n { for i in 0..<(n * n) { density[z * n * n + i] = 8 } }
        let field = VoxelGridField(density: Tensor([1, 1, n, n, n], data: density), color: Tensor.zeros([1, 3, n, n, n]))
        let behind = { (g: [Float]) in (0..<(2 * n * n)).map { abs(g[$0]) }.max()! }
        let rays = Rays(view: OrbitView(azimuth: 0, elevation: 0, radius: 3.2), width: 5, height: 5)
        let tape = Self.render(field, path: .tape, jitter: false, rays: rays)
        let fused = Self.render(field, path: .fused(transmittanceThreshold: 1e-4), jitter: false, rays: rays)
        #expect(behind(tape.dDensity) > 0)
        #expect(behind(fused.dDensity) == 0)
    }

    @Test func derivativesWithTerminationMatchFiniteDifferences() {
        // With termination on, both derivatives are those of the stopped render.
        let field = Self.field(seed: 4)
        let bg = Tensor.parameter([3], data: [0.3, -0.2, 0.9])
        let renderer = NeRFRenderer(samplesPerRay: 24, background: .learned(bg), voxelGridPath: .fused(transmittanceThreshold: 1e-2))
        checkDerivatives([field.density, field.color, bg], epsilon: 1e-3, tolerance: 2e-2, "stopped render") { _ in
            let out = renderer.render(field, rays: Self.rays)
            return Tensor.concat([out.color.reshaped([-1]), out.opacity, out.depth], axis: 0)
        }
    }

    @Test(arguments: [Float(0), 1e-4])
    func fusedSquaredErrorEqualsTheComposedOne(threshold: Float) {
        // What the inner-Adam solve asks for: mean((render − y)²) over a NeRF's views, its value
        // and gradients (grids and a learned background) through one fused op.
        let field = Self.field(seed: 6, bias: 0)
        let bg = Tensor.parameter([3], data: [0.3, -0.2, 0.9])
        let nerf = NeRFDiffrep(field: field, imageSize: 6,
                               renderer: NeRFRenderer(samplesPerRay: 24, background: .learned(bg), voxelGridPath: .fused(transmittanceThreshold: threshold)))
        let views = [OrbitView(azimuth: 0.3, elevation: 0.2, radius: 3.2), OrbitView(azimuth: 2.5, elevation: -0.1, radius: 3.2)]
        var rng = RandomGenerator(seed: 7)
        let targets = rng.uniform([2, 3, 6, 6], in: -1...1)
        func valueAndGradients(_ loss: () -> Tensor) -> [[Float]] {
            nerf.parameters.zeroGrad()
            let l = loss()
            l.backward()
            defer { nerf.parameters.zeroGrad() }
            return [[l.item]] + nerf.parameters.tensors.map { $0.grad! }
        }
        let fused = valueAndGradients { nerf.squaredError(views, targets: targets)! }
        var tape = nerf.renderer
        tape.voxelGridPath = .tape
        let reference = NeRFDiffrep(field: field, imageSize: 6, renderer: tape)
        #expect(reference.squaredError(views, targets: targets) == nil)
        let composed = valueAndGradients { (reference.render(views) - targets).square().mean() }
        for (k, name) in ["value", "∂/∂density", "∂/∂colour", "∂/∂background"].enumerated() {
            assertClose(fused[k], composed[k], rtol: 1e-4, atol: threshold > 0 ? 1e-4 : 1e-6, "threshold \(threshold): \(name)")
        }
        #expect(composed[1].contains { abs($0) > 1e-3 })
    }

    @Test(arguments: [Float(0), 1e-4])
    func precomputedGeometryChangesNoBit(threshold: Float) {
        // The solve's squared error with the samples located once (VoxelGridRayGeometry.swift)
        // against locating them in every march: the same bits, value and gradients, on rays
        // that hit, miss and start inside the box.
        let field = Self.field(seed: 8, bias: 0)
        let bg = Tensor.parameter([3], data: [0.3, -0.2, 0.9])
        let rays = Self.rays, S = 24
        var rng = RandomGenerator(seed: 9)
        let targets = rng.uniform([1, 3, rays.count], in: -1...1).data
        let geometry = field.rayGeometry(rays: rays, samplesPerRay: S)
        #expect(geometry.width.filter { $0 < 0 }.count == 2)                  // the two rays that miss
        func valueAndGradients(_ geometry: VoxelGridRayMarcher.Geometry?) -> [[Float]] {
            field.parameters.zeroGrad()
            bg.zeroGrad()
            let loss = field.marchedSquaredError(rays: rays, samplesPerRay: S, background: bg, transmittanceThreshold: threshold,
                                                 targets: targets, pixelsPerImage: rays.count, geometry: geometry)
            loss.backward()
            return [[loss.item], field.density.grad!, field.color.grad!, bg.grad!]
        }
        let located = valueAndGradients(nil), cached = valueAndGradients(geometry)
        #expect(located == cached)
        #expect(located[1].contains { abs($0) > 1e-3 })
    }

    @Test func precomputedGeometryWithJitteredOffsetsChangesNoBit() {
        // Stratified offsets go into the geometry too: the render and its tangents agree to the bit.
        let field = Self.field(seed: 10)
        let rays = Self.rays, S = 20
        var rng = RandomGenerator(seed: 3)
        let offsets = rng.uniform([rays.count * S], in: 0...1).data
        var marcher = VoxelGridRayMarcher(
            rayCount: rays.count, samplesPerRay: S, origins: rays.origins.data, directions: rays.directions.data,
            offsets: offsets, box: field.box, resolution: field.resolution,
            grid: VoxelGridRayMarcher.interleave(density: field.density.data, color: field.color.data),
            densityActivation: field.densityActivation, densityBias: field.densityBias,
            background: SIMD4(0, 1, 1, 1), threshold: 1e-4)
        let tangent = VoxelGridRayMarcher.interleave(density: rng.normal([field.density.count]).data,
                                                     color: rng.normal([field.color.count]).data)
        func run() -> [[Float]] {
            let (f, t) = marcher.forward(tangentGrid: tangent, hasDensityTangent: true, hasColorTangent: true)
            return [f.color, f.opacity, f.depth, f.transFinal, t!.color, t!.opacity, t!.depth]
        }
        let located = run()
        marcher.geometry = VoxelGridRayMarcher.Geometry(marcher)
        #expect(run() == located)
        #expect(located[1].contains { $0 > 0.5 } && located[1].contains { $0 < 0.5 })
    }

    @Test func aNeRFLocatesItsSamplesAgainForNewViews() {
        // NeRFDiffrep keeps one set of views' geometry: a second set must not reuse it.
        let field = Self.field(seed: 6, bias: 0)
        func nerf() -> NeRFDiffrep {
            NeRFDiffrep(field: field, imageSize: 6, renderer: NeRFRenderer(samplesPerRay: 24, voxelGridPath: .fused(transmittanceThreshold: 1e-4)))
        }
        let a = [OrbitView(azimuth: 0.3, elevation: 0.2, radius: 3.2)], b = [OrbitView(azimuth: 2.1, elevation: -0.3, radius: 3.0)]
        var rng = RandomGenerator(seed: 4)
        let targets = rng.uniform([1, 3, 6, 6], in: -1...1)
        let kept = nerf()
        _ = kept.squaredError(a, targets: targets)
        #expect(kept.squaredError(b, targets: targets)!.item == nerf().squaredError(b, targets: targets)!.item)
        #expect(kept.squaredError(a, targets: targets)!.item != kept.squaredError(b, targets: targets)!.item)
    }

    @Test func theRendererTakesTheFusedPathForGridsByDefault() {
        let field = Self.field(seed: 5)
        let out = NeRFRenderer().render(field, rays: Self.rays)
        #expect(out.color.op == "marchedRender.color")
        var tape = NeRFRenderer()
        tape.voxelGridPath = .tape
        #expect(tape.render(field, rays: Self.rays).color.op != "marchedRender.color")
    }
}

private func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] {
    zip(a, zip(b, c)).map { ($0, $1.0, $1.1) }
}
