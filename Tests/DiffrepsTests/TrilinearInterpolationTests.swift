import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The trilinear interpolation op against a naive reference, exactness on affine functions,
/// the axis convention, border clamping and its derivatives.
@Suite struct TrilinearInterpolationTests {
    /// Naive trilinear interpolation of `grid` `[C, D, H, W]` at a world point (border clamp).
    static func naive(_ grid: [Float], C: Int, D: Int, H: Int, W: Int, _ p: SIMD3<Float>, b: Float) -> [Float] {
        func coord(_ x: Float, _ n: Int) -> Float { min(max((x / b + 1) / 2 * Float(n - 1), 0), Float(n - 1)) }
        let gx = coord(p.x, W), gy = coord(p.y, H), gz = coord(p.z, D)
        var out = [Float](repeating: 0, count: C)
        for c in 0..<C {
            for dz in 0...1 { for dy in 0...1 { for dx in 0...1 {
                let iz = min(Int(gz.rounded(.down)) + dz, D - 1), iy = min(Int(gy.rounded(.down)) + dy, H - 1)
                let ix = min(Int(gx.rounded(.down)) + dx, W - 1)
                let wz = dz == 1 ? gz - gz.rounded(.down) : 1 - (gz - gz.rounded(.down))
                let wy = dy == 1 ? gy - gy.rounded(.down) : 1 - (gy - gy.rounded(.down))
                let wx = dx == 1 ? gx - gx.rounded(.down) : 1 - (gx - gx.rounded(.down))
                out[c] += wz * wy * wx * grid[((c * D + iz) * H + iy) * W + ix]
            }}}
        }
        return out
    }

    static func randomPoints(_ n: Int, seed: UInt64, range: Float) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return rng.uniform([n, 3], in: -range...range)
    }

    @Test func matchesNaiveReferenceInsideAndOutsideTheBox() {
        let (C, D, H, W) = (2, 3, 4, 5)
        var rng = RandomGenerator(seed: 1)
        let grid = rng.uniform([C, D, H, W], in: -1...1)
        let points = Self.randomPoints(300, seed: 2, range: 2.2)       // some outside [-1.5, 1.5]
        let out = TrilinearInterpolation(points: points, box: SceneBox(), depth: D, height: H, width: W).sample(grid)
        #expect(out.shape == [300, C])
        for p in 0..<300 {
            let pt = SIMD3(points.data[3 * p], points.data[3 * p + 1], points.data[3 * p + 2])
            assertClose(Array(out.data[C * p..<C * p + C]), Self.naive(grid.data, C: C, D: D, H: H, W: W, pt, b: 1.5),
                        atol: 1e-5, "point \(p)")
        }
    }

    @Test func exactOnAffineFunctionsWithXAlongWidthAndZAlongDepth() {
        // Grid values f(x, y, z) = 1 + 2x − 3y + 0.5z at the vertices; D, H, W all different.
        let (D, H, W) = (4, 6, 5)
        let b: Float = 1.5
        var values = [Float](repeating: 0, count: D * H * W)
        for d in 0..<D { for h in 0..<H { for w in 0..<W {
            let x = -b + 2 * b * Float(w) / Float(W - 1), y = -b + 2 * b * Float(h) / Float(H - 1)
            let z = -b + 2 * b * Float(d) / Float(D - 1)
            values[(d * H + h) * W + w] = 1 + 2 * x - 3 * y + 0.5 * z
        }}}
        let points = Self.randomPoints(200, seed: 3, range: b)
        let out = TrilinearInterpolation(points: points, box: SceneBox(halfExtent: b), depth: D, height: H, width: W)
            .sample(Tensor([1, D, H, W], data: values))
        for p in 0..<200 {
            let x = points.data[3 * p], y = points.data[3 * p + 1], z = points.data[3 * p + 2]
            #expect(abs(out.data[p] - (1 + 2 * x - 3 * y + 0.5 * z)) < 1e-4)
        }
    }

    @Test func vertexPointsReadVertexValues() {
        let grid = Tensor([1, 1, 2, 2, 2], data: [0, 1, 2, 3, 4, 5, 6, 7])     // [1, C, D, H, W]
        // (x, y, z) corners: value index = z·4 + y·2 + x.
        let pts = Tensor([3, 3], data: [-1.5, -1.5, -1.5, 1.5, -1.5, 1.5, -1.5, 1.5, 1.5])
        let out = TrilinearInterpolation(points: pts, box: SceneBox(), depth: 2, height: 2, width: 2).sample(grid)
        assertClose(out.data, [0, 5, 6], atol: 1e-6)
    }

    @Test(arguments: ["identity", "tanh", "exp", "softplus"])
    func derivatives(_ name: String) {
        let activation: TrilinearInterpolation.Activation =
            ["identity": .identity, "tanh": .tanh, "exp": .exp(bias: -0.5), "softplus": .softplus(bias: 0.3)][name]!
        var rng = RandomGenerator(seed: 5)
        let grid = rng.uniform([2, 3, 4, 3], in: -1...1)
        let interp = TrilinearInterpolation(points: Self.randomPoints(40, seed: 6, range: 1.7), box: SceneBox(),
                                            depth: 3, height: 4, width: 3)
        checkDerivatives([grid], epsilon: 1e-2, tolerance: 1e-2, name) { interp.sample($0[0], activation: activation) }
    }

    @Test func activationsApplyAfterInterpolation() {
        var rng = RandomGenerator(seed: 8)
        let grid = rng.uniform([3, 4, 4, 4], in: -2...2)
        let interp = TrilinearInterpolation(points: Self.randomPoints(50, seed: 9, range: 1.5), box: SceneBox(),
                                            depth: 4, height: 4, width: 4)
        let raw = interp.sample(grid)
        assertClose(interp.sample(grid, activation: .tanh).data, raw.tanh().data, atol: 1e-6, "tanh")
        assertClose(interp.sample(grid, activation: .exp(bias: -1)).data, raw.shifted(by: -1).exp().data,
                    rtol: 1e-5, atol: 1e-6, "exp")
        assertClose(interp.sample(grid, activation: .softplus(bias: 0.5)).data, raw.shifted(by: 0.5).softplus().data,
                    rtol: 1e-5, atol: 1e-6, "softplus")
        // exp is clamped: no overflow, zero slope past the clamp.
        let huge = Tensor.parameter([1, 4, 4, 4], data: [Float](repeating: 100, count: 64))
        let y = interp.sample(huge, activation: .exp(bias: 0))
        #expect(y.data.allSatisfy { abs($0 / Foundation.exp(15) - 1) < 1e-6 })
        y.sum().backward()
        #expect(huge.grad!.allSatisfy { $0 == 0 })
    }

    @Test func manyPointsScatterLikeTheNaiveAdjoint() {
        // Enough points for the chunked, parallel scatter; compare with a serial naive VJP.
        let (C, N) = (3, 5)
        var rng = RandomGenerator(seed: 10)
        let grid = rng.uniform([C, N, N, N], in: -1...1)
        grid.requiresGrad = true
        let P = 20000
        let points = Self.randomPoints(P, seed: 11, range: 1.6)
        let g = rng.normalValues(P * C)
        TrilinearInterpolation(points: points, box: SceneBox(), depth: N, height: N, width: N).sample(grid).backward(seed: g)
        // The naive adjoint: each point adds weight·g into its 8 surrounding vertices.
        var expected = [Float](repeating: 0, count: C * N * N * N)
        for p in 0..<P {
            let pt = SIMD3(points.data[3 * p], points.data[3 * p + 1], points.data[3 * p + 2])
            func coord(_ x: Float) -> Float { min(max((x / 1.5 + 1) / 2 * Float(N - 1), 0), Float(N - 1)) }
            let gx = coord(pt.x), gy = coord(pt.y), gz = coord(pt.z)
            for dz in 0...1 { for dy in 0...1 { for dx in 0...1 {
                let fx = gx - gx.rounded(.down), fy = gy - gy.rounded(.down), fz = gz - gz.rounded(.down)
                let w = (dz == 1 ? fz : 1 - fz) * (dy == 1 ? fy : 1 - fy) * (dx == 1 ? fx : 1 - fx)
                let iz = min(Int(gz) + dz, N - 1), iy = min(Int(gy) + dy, N - 1), ix = min(Int(gx) + dx, N - 1)
                for c in 0..<C { expected[((c * N + iz) * N + iy) * N + ix] += w * g[p * C + c] }
            }}}
        }
        assertClose(grid.grad!, expected, rtol: 1e-4, atol: 1e-3)
    }
}
