import Foundation
import Testing
@testable import TensorCore
import TestSupport

/// The fused compositor against the same compositing written with plain tensor ops (one
/// loop step per sample), finite differences, JVP vs VJP, and the limiting cases.
@Suite struct VolumeCompositingTests {
    /// Reference compositing from primitive ops: sample `i` is picked out of `[R, S]` and
    /// `[R, S, C]` by a one-hot mask and a sum, then the usual front-to-back recursion.
    static func reference(densities: Tensor, colors: Tensor, deltas: [Float], distances: [Float],
                          background: Tensor) -> (color: Tensor, opacity: Tensor, depth: Tensor) {
        let R = densities.shape[0], S = densities.shape[1], C = colors.shape[2]
        var trans = Tensor.ones([R])
        var color = Tensor.zeros([R, C])
        var opacity = Tensor.zeros([R])
        var depth = Tensor.zeros([R])
        for i in 0..<S {
            var mask = [Float](repeating: 0, count: S)
            mask[i] = 1
            let sigma = (densities * Tensor([1, S], data: mask)).sum(axes: [1])              // [R]
            let c = (colors * Tensor([1, S, 1], data: mask)).sum(axes: [1])                  // [R, C]
            let delta = Tensor([R], data: (0..<R).map { deltas[$0 * S + i] })
            let t = Tensor([R], data: (0..<R).map { distances[$0 * S + i] })
            let decay = (-(sigma * delta)).exp()                                            // exp(−s_i)
            let w = trans * (1 - decay)
            color = color + w.reshaped([R, 1]) * c
            opacity = opacity + w
            depth = depth + w * t
            trans = trans * decay
        }
        let bg = background.rank == 1 ? background.reshaped([1, C]) : background
        color = color + trans.reshaped([R, 1]) * bg
        return (color, opacity, depth)
    }

    /// A small random problem: R rays, S samples, C channels, deltas in [0.05, 0.4].
    static func problem(R: Int, S: Int, C: Int, seed: UInt64, perRayBackground: Bool = false)
        -> (Tensor, Tensor, [Float], [Float], Tensor) {
        var rng = RandomGenerator(seed: seed)
        let sigma = rng.uniform([R, S], in: 0...4)
        let colors = rng.uniform([R, S, C], in: -1...1)
        let deltas = rng.uniformValues(R * S).map { 0.05 + 0.35 * $0 }
        var distances = [Float](repeating: 0, count: R * S)
        for r in 0..<R {
            var acc: Float = 2
            for i in 0..<S { acc += deltas[r * S + i]; distances[r * S + i] = acc }
        }
        let bg = rng.uniform(perRayBackground ? [R, C] : [C], in: -1...1)
        for t in [sigma, colors, bg] { t.requiresGrad = true }
        return (sigma, colors, deltas, distances, bg)
    }

    @Test(arguments: [false, true])
    func matchesReferenceValuesAndGradients(_ perRayBackground: Bool) {
        let (sigma, colors, deltas, distances, bg) = Self.problem(R: 5, S: 7, C: 3, seed: 1,
                                                                  perRayBackground: perRayBackground)
        let fused = Tensor.composite(densities: sigma, colors: colors, deltas: deltas, distances: distances, background: bg)
        let ref = Self.reference(densities: sigma, colors: colors, deltas: deltas, distances: distances, background: bg)
        assertClose(fused.color, ref.color, rtol: 1e-5, atol: 1e-6, "color")
        assertClose(fused.opacity, ref.opacity, rtol: 1e-5, atol: 1e-6, "opacity")
        assertClose(fused.depth, ref.depth, rtol: 1e-5, atol: 1e-5, "depth")

        // One loss mixing all three outputs, so every backward path is exercised.
        func loss(_ o: (color: Tensor, opacity: Tensor, depth: Tensor)) -> Tensor {
            var rng = RandomGenerator(seed: 9)
            let u = rng.normal(o.color.shape), v = rng.normal([o.opacity.count]), z = rng.normal([o.depth.count])
            return (o.color * u).sum() + (o.opacity * v).sum() + (o.depth * z).sum()
        }
        loss(fused).backward()
        let fusedGrads = [sigma.grad!, colors.grad!, bg.grad!]
        for t in [sigma, colors, bg] { t.grad = nil }
        loss(ref).backward()
        let refGrads = [sigma.grad!, colors.grad!, bg.grad!]
        for (name, (a, b)) in zip(["densities", "colors", "background"], zip(fusedGrads, refGrads)) {
            assertClose(a, b, rtol: 1e-4, atol: 1e-5, "∂/∂\(name)")
        }
    }

    @Test func tangentsMatchReference() {
        let (sigma, colors, deltas, distances, bg) = Self.problem(R: 4, S: 6, C: 2, seed: 2)
        var rng = RandomGenerator(seed: 5)
        for t in [sigma, colors, bg] { t.tangent = rng.normalValues(t.count) }
        let fused = Tensor.composite(densities: sigma, colors: colors, deltas: deltas, distances: distances, background: bg)
        let ref = Self.reference(densities: sigma, colors: colors, deltas: deltas, distances: distances, background: bg)
        assertClose(fused.color.tangent!, ref.color.tangent!, rtol: 1e-4, atol: 1e-5, "color tangent")
        assertClose(fused.opacity.tangent!, ref.opacity.tangent!, rtol: 1e-4, atol: 1e-5, "opacity tangent")
        assertClose(fused.depth.tangent!, ref.depth.tangent!, rtol: 1e-4, atol: 1e-4, "depth tangent")
    }

    @Test(arguments: ["color", "opacity", "depth"])
    func finiteDifferencesAndJVP(_ output: String) {
        let (sigma, colors, deltas, distances, bg) = Self.problem(R: 3, S: 5, C: 3, seed: 3, perRayBackground: true)
        checkDerivatives([sigma, colors, bg], epsilon: 1e-2, tolerance: 1e-2, output) { t in
            let o = Tensor.composite(densities: t[0], colors: t[1], deltas: deltas, distances: distances, background: t[2])
            return output == "color" ? o.color : (output == "opacity" ? o.opacity : o.depth)
        }
    }

    @Test func zeroDensityShowsBackground() {
        let sigma = Tensor.parameter([2, 4], data: [Float](repeating: 0, count: 8))
        let colors = Tensor([2, 4, 3], data: (0..<24).map { Float($0) / 24 })
        let bg = Tensor([3], data: [0.25, -0.5, 1])
        let o = Tensor.composite(densities: sigma, colors: colors, deltas: [Float](repeating: 0.3, count: 8), background: bg)
        assertClose(o.color.data, [0.25, -0.5, 1, 0.25, -0.5, 1], atol: 0)
        #expect(o.opacity.data == [0, 0])
        #expect(o.depth.data == [0, 0])
        // Zero deltas (a ray that misses the scene) also show the background, whatever the density.
        let dense = Tensor([2, 4], repeating: 50)
        let miss = Tensor.composite(densities: dense, colors: colors, deltas: [Float](repeating: 0, count: 8), background: bg)
        assertClose(miss.color.data, [0.25, -0.5, 1, 0.25, -0.5, 1], atol: 0)
    }

    @Test func hugeDensityShowsFirstSample() {
        let sigma = Tensor.parameter([2, 3], data: [1e4, 1e4, 1e4, 0, 1e5, 3])
        let colors = Tensor.parameter([2, 3, 2], data: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
                                                        -0.1, -0.2, -0.3, -0.4, -0.5, -0.6])
        let bg = Tensor.parameter([2], data: [1, 1])
        let ts: [Float] = [1, 2, 3, 1, 2, 3]
        let o = Tensor.composite(densities: sigma, colors: colors, deltas: [Float](repeating: 0.5, count: 6),
                                 distances: ts, background: bg)
        // Ray 0 stops at its first sample, ray 1 at its second (its first is empty).
        assertClose(o.color.data, [0.1, 0.2, -0.3, -0.4], atol: 1e-6)
        assertClose(o.opacity.data, [1, 1], atol: 1e-6)
        assertClose(o.depth.data, [1, 2], atol: 1e-5)
        (o.color.sum() + o.depth.sum()).backward()
        #expect(sigma.grad!.allSatisfy { $0.isFinite })
        // Only the visible sample's colour gets gradient; the background none.
        assertClose(colors.grad!, [1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0], atol: 1e-6)
        assertClose(bg.grad!, [0, 0], atol: 1e-6)
    }

    @Test func defaultDistancesAreIntervalMidpoints() {
        let sigma = Tensor([1, 3], data: [0.7, 1.1, 0.4])
        let colors = Tensor.zeros([1, 3, 1])
        let deltas: [Float] = [0.2, 0.4, 0.6]
        let a = Tensor.composite(densities: sigma, colors: colors, deltas: deltas, background: Tensor([1], data: [0]))
        let b = Tensor.composite(densities: sigma, colors: colors, deltas: deltas, distances: [0.1, 0.4, 0.9],
                                 background: Tensor([1], data: [0]))
        assertClose(a.depth, b.depth, rtol: 1e-6, atol: 0)
    }
}
