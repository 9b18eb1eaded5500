import Foundation
import Testing
@testable import TensorCore

/// One case of Fixtures/grid_*.json (made by Fixtures/make_grid_fixtures.py with PyTorch).
struct GridFixtureCase: Decodable {
    var name: String
    var alignCorners: Bool
    var padding: String
    var wrapX: Bool
    var inputShape: [Int], input: [Float]
    var gridShape: [Int], grid: [Float]
    var outputShape: [Int], output: [Float]
    var gradOutput: [Float], gradInput: [Float], gradGrid: [Float]
}

struct GridFixtureFile: Decodable { var cases: [GridFixtureCase] }

/// Normalised coordinate of pixel position `p` on an axis of `size` (inverse of the sampler's map).
func normalized(_ p: Float, _ size: Int, alignCorners: Bool) -> Float {
    alignCorners ? 2 * p / Float(size - 1) - 1 : (2 * p + 1) / Float(size) - 1
}

/// A grid parameter whose pixel positions keep a fractional part in 0.25…0.75, so that
/// finite differences never cross a cell boundary (a kink of bilinear interpolation).
/// `sizes` are the (x, y[, z]) extents; positions span `-1 ... size` (partly outside).
func kinkFreeGrid(_ shape: [Int], sizes: [Int], alignCorners: Bool, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let d = sizes.count
    var data = [Float](repeating: 0, count: shape.reduce(1, *))
    for i in 0..<data.count {
        let size = sizes[i % d]
        let cell = Float(rng.int(below: size + 1) - 1)          // −1 … size − 1
        let frac = 0.25 + 0.5 * rng.uniformValues(1)[0]
        data[i] = normalized(cell + frac, size, alignCorners: alignCorners)
    }
    return Tensor.parameter(shape, data: data)
}

@Suite struct GridSampleTests {
    // MARK: - Hand-checked values

    @Test func bilinearValues() {
        let img = Tensor([1, 1, 2, 2], data: [1, 2, 3, 4])
        let g = Tensor([1, 1, 5, 2], data: [0, 0, -1, -1, 1, -1, 1, 1, 0.5, 0])
        assertClose(img.gridSample2D(g, alignCorners: true).data, [2.5, 1, 2, 4, 2.75])
        // Without aligned corners −1 is the outer edge of the first pixel: half outside.
        let h = Tensor([1, 1, 3, 2], data: [0, 0, -1, -1, 1, 1])
        assertClose(img.gridSample2D(h).data, [2.5, 0.25, 1])
        assertClose(img.gridSample2D(h, padding: .border).data, [2.5, 1, 4])
        // Far outside: zeros read nothing, border reads the nearest corner.
        let far = Tensor([1, 1, 1, 2], data: [-3, 5])
        assertClose(img.gridSample2D(far).data, [0])
        assertClose(img.gridSample2D(far, padding: .border).data, [3])
        // Channels and batches are sampled independently.
        let two = Tensor([2, 2, 1, 2], data: [1, 2, 10, 20, 3, 4, 30, 40])
        let mid = Tensor([2, 1, 1, 2], data: [0, 0, -1, 0])
        assertClose(two.gridSample2D(mid, alignCorners: true).data, [1.5, 15, 3, 30])
    }

    @Test func wrapXJoinsTheSeam() {
        let row = Tensor([1, 1, 1, 4], data: [1, 2, 3, 4])
        let g = Tensor([1, 1, 5, 2], data: [-1, 0, 1, 0, -0.75, 0, 1.25, 0, -2.75, 0])
        // x = ±1: halfway between the last and the first pixel; −0.75 / 1.25 / −2.75: pixel 0.
        assertClose(row.gridSample2D(g, wrapX: true).data, [2.5, 2.5, 1, 1, 1])
        // Without wrapping the seam reads half zero.
        assertClose(row.gridSample2D(g).data.prefix(2).map { $0 }, [0.5, 2])
        // With aligned corners, x = 1 is the centre of the last pixel and the period is still W pixels.
        let a = Tensor([1, 1, 2, 2], data: [1, 0, 1 + 1.0 / 3, 0])
        assertClose(row.gridSample2D(a, alignCorners: true, wrapX: true).data, [4, 2.5])
    }

    @Test func trilinearValues() {
        // v = 4z + 2y + x on a 2×2×2 grid: trilinear interpolation reproduces it exactly.
        let vox = Tensor([1, 1, 2, 2, 2], data: (0..<8).map(Float.init))
        let pts: [(Float, Float, Float)] = [(0, 0, 0), (-1, -1, -1), (1, 1, 1), (0.5, -0.5, 0.25), (-0.2, 0.6, -0.9)]
        let grid = Tensor([1, 1, 1, pts.count, 3], data: pts.flatMap { [$0.0, $0.1, $0.2] })
        let expected = pts.map { p -> Float in
            let px = (p.0 + 1) / 2, py = (p.1 + 1) / 2, pz = (p.2 + 1) / 2
            return 4 * pz + 2 * py + px
        }
        let out = vox.gridSample3D(grid, alignCorners: true)
        #expect(out.shape == [1, 1, 1, 1, pts.count])
        assertClose(out.data, expected)
        // Unaligned: the point (−1, −1, −1) is the outer corner, one eighth inside.
        let corner = Tensor([1, 1, 1, 1, 3], data: [-1, -1, -1])
        assertClose(vox.gridSample3D(corner).data, [0])
        let ones = Tensor([1, 1, 2, 2, 2], repeating: 1)
        assertClose(ones.gridSample3D(corner).data, [0.125])
        assertClose(ones.gridSample3D(corner, padding: .border).data, [1])
    }

    // MARK: - Against PyTorch

    static func fixture(_ name: String) throws -> [GridFixtureCase] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(GridFixtureFile.self, from: Data(contentsOf: url)).cases
    }

    @Test(arguments: ["grid_2d", "grid_3d"])
    func matchesPyTorch(_ file: String) throws {
        let cases = try Self.fixture(file)
        #expect(cases.count >= 4)
        for c in cases {
            let input = Tensor.parameter(c.inputShape, data: c.input)
            let grid = Tensor.parameter(c.gridShape, data: c.grid)
            let padding: GridPadding = c.padding == "border" ? .border : .zeros
            let out = c.inputShape.count == 4
                ? input.gridSample2D(grid, alignCorners: c.alignCorners, padding: padding, wrapX: c.wrapX)
                : input.gridSample3D(grid, alignCorners: c.alignCorners, padding: padding, wrapX: c.wrapX)
            #expect(out.shape == c.outputShape, "\(c.name)")
            assertClose(out.data, c.output, rtol: 1e-5, atol: 1e-5, "\(c.name) values")
            out.backward(seed: c.gradOutput)
            assertClose(input.grad ?? [], c.gradInput, rtol: 1e-4, atol: 1e-4, "\(c.name) ∂/∂input")
            assertClose(grid.grad ?? [], c.gradGrid, rtol: 1e-4, atol: 1e-4, "\(c.name) ∂/∂grid")
        }
    }

    // MARK: - Derivatives

    static let options: [(alignCorners: Bool, padding: GridPadding, wrapX: Bool)] = [
        (false, .zeros, false), (true, .zeros, false), (false, .border, false), (true, .border, false),
        (false, .zeros, true), (true, .border, true),
    ]

    @Test(arguments: 0..<options.count)
    func derivatives2D(_ i: Int) {
        let o = Self.options[i]
        let input = randomParameter([2, 3, 4, 5], seed: 61)
        let grid = kinkFreeGrid([2, 3, 4, 2], sizes: [5, 4], alignCorners: o.alignCorners, seed: 62)
        checkDerivatives([input, grid], "2D \(o)") {
            $0[0].gridSample2D($0[1], alignCorners: o.alignCorners, padding: o.padding, wrapX: o.wrapX)
        }
    }

    @Test(arguments: 0..<options.count)
    func derivatives3D(_ i: Int) {
        let o = Self.options[i]
        let input = randomParameter([2, 2, 3, 4, 5], seed: 63)
        let grid = kinkFreeGrid([2, 2, 3, 2, 3], sizes: [5, 4, 3], alignCorners: o.alignCorners, seed: 64)
        checkDerivatives([input, grid], "3D \(o)") {
            $0[0].gridSample3D($0[1], alignCorners: o.alignCorners, padding: o.padding, wrapX: o.wrapX)
        }
    }

    @Test func derivativesToOneInputOnly() {
        // Only the grid, or only the values, on the tape / carrying a tangent.
        let input = randomParameter([1, 2, 3, 4], seed: 65)
        let grid = kinkFreeGrid([1, 2, 3, 2], sizes: [4, 3], alignCorners: false, seed: 66)
        checkDerivatives([grid], "grid only") { input.detached().gridSample2D($0[0]) }
        checkDerivatives([input], "values only") { $0[0].gridSample2D(grid.detached()) }
    }

    // MARK: - Parallel paths against a plain reference

    /// Trilinear sampling in Double, straight from the definition (zeros padding, unaligned).
    static func referenceSample(_ v: [Float], _ c: Int, _ d: Int, _ h: Int, _ w: Int,
                                _ x: Float, _ y: Float, _ z: Float) -> [Double] {
        func pos(_ g: Float, _ n: Int) -> Double { ((Double(g) + 1) * Double(n) - 1) / 2 }
        let px = pos(x, w), py = pos(y, h), pz = pos(z, d)
        let x0 = Int(px.rounded(.down)), y0 = Int(py.rounded(.down)), z0 = Int(pz.rounded(.down))
        var out = [Double](repeating: 0, count: c)
        for dz in 0...1 { for dy in 0...1 { for dx in 0...1 {
            let xi = x0 + dx, yi = y0 + dy, zi = z0 + dz
            guard (0..<w).contains(xi), (0..<h).contains(yi), (0..<d).contains(zi) else { continue }
            let wt = (dx == 1 ? px - Double(x0) : 1 - (px - Double(x0)))
                * (dy == 1 ? py - Double(y0) : 1 - (py - Double(y0)))
                * (dz == 1 ? pz - Double(z0) : 1 - (pz - Double(z0)))
            for ch in 0..<c { out[ch] += wt * Double(v[((ch * d + zi) * h + yi) * w + xi]) }
        } } }
        return out
    }

    @Test func largeGridMatchesReference() {
        // Big enough that forward, VJP and JVP split over workers (and private VJP buffers).
        let (c, d, h, w, n) = (2, 6, 7, 8, 12_000)
        let vox = randomParameter([1, c, d, h, w], seed: 71)
        let grid = randomParameter([1, 1, 1, n, 3], seed: 72, in: -1.1...1.1)
        let out = vox.gridSample3D(grid)
        var expected = [Float](repeating: 0, count: c * n)
        for p in 0..<n {
            let r = Self.referenceSample(vox.data, c, d, h, w, grid.data[3 * p], grid.data[3 * p + 1], grid.data[3 * p + 2])
            for ch in 0..<c { expected[ch * n + p] = Float(r[ch]) }
        }
        assertClose(out.data, expected, rtol: 1e-5, atol: 1e-5, "values")

        // ∂/∂values: out is linear in them, so ∂⟨g, out⟩/∂v_i = ⟨g, sample(e_i)⟩ with e_i a unit voxel.
        var rng = RandomGenerator(seed: 73)
        let g = rng.normalValues(c * n)
        out.backward(seed: g)
        let probe = [0, 17, 100, 200, c * d * h * w - 1]
        for i in probe {
            var unit = [Float](repeating: 0, count: vox.count)
            unit[i] = 1
            let ch = i / (d * h * w)
            var dot = 0.0
            for p in 0..<n {
                let r = Self.referenceSample(unit, c, d, h, w, grid.data[3 * p], grid.data[3 * p + 1], grid.data[3 * p + 2])
                dot += r[ch] * Double(g[ch * n + p])
            }
            #expect(abs(Double(vox.grad![i]) - dot) <= 1e-3 * max(1, abs(dot)), "∂/∂voxel \(i): \(vox.grad![i]) vs \(dot)")
        }
        // ∂/∂grid at a few points, by central differences of the Double reference, at points
        // whose pixel positions are well inside a cell (away from the kinks at cell edges).
        let sizes = [w, h, d]
        let smooth = (0..<n).filter { p in
            (0..<3).allSatisfy { a in
                let pos = ((grid.data[3 * p + a] + 1) * Float(sizes[a]) - 1) / 2
                let frac = pos - pos.rounded(.down)
                return frac > 0.05 && frac < 0.95
            }
        }
        for p in [smooth[0], smooth[1], smooth[smooth.count / 2], smooth[smooth.count - 1]] {
            for a in 0..<3 {
                func f(_ delta: Float) -> Double {
                    var q = Array(grid.data[(3 * p)..<(3 * p + 3)])
                    q[a] += delta
                    let r = Self.referenceSample(vox.data, c, d, h, w, q[0], q[1], q[2])
                    return (0..<c).reduce(0.0) { $0 + r[$1] * Double(g[$1 * n + p]) }
                }
                let eps: Float = 1e-3
                let numeric = (f(eps) - f(-eps)) / Double(2 * eps)
                #expect(abs(Double(grid.grad![3 * p + a]) - numeric) <= 2e-2 * max(1, abs(numeric)),
                        "∂/∂grid point \(p) axis \(a): \(grid.grad![3 * p + a]) vs \(numeric)")
            }
        }
        // JVP against VJP on the same large problem.
        let (lhs, rhs) = GradientCheck.jvpAgainstVJP([vox, grid]) { $0[0].gridSample3D($0[1]) }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "⟨Jv,u⟩ = \(lhs) vs ⟨v,Jᵀu⟩ = \(rhs)")
    }

    @Test func largeBatched2DMatchesReference() {
        // Two batch elements, border padding, aligned corners: the parallel VJP splits the
        // (batch, row) keys into slabs; ⟨Jv,u⟩ = ⟨v,Jᵀu⟩ catches any lost or misplaced write.
        let (n, c, h, w, ho, wo) = (2, 3, 20, 30, 60, 100)
        let img = randomParameter([n, c, h, w], seed: 81)
        let grid = randomParameter([n, ho, wo, 2], seed: 82, in: -1.2...1.2)
        let out = img.gridSample2D(grid, alignCorners: true, padding: .border)
        var expected = [Float](repeating: 0, count: out.count)
        for b in 0..<n {
            for p in 0..<(ho * wo) {
                let g = 2 * (b * ho * wo + p)
                let px = min(max((Double(grid.data[g]) + 1) / 2 * Double(w - 1), 0), Double(w - 1))
                let py = min(max((Double(grid.data[g + 1]) + 1) / 2 * Double(h - 1), 0), Double(h - 1))
                let x0 = min(Int(px), w - 2), y0 = min(Int(py), h - 2)
                let fx = px - Double(x0), fy = py - Double(y0)
                for ch in 0..<c {
                    func v(_ y: Int, _ x: Int) -> Double { Double(img.data[((b * c + ch) * h + y) * w + x]) }
                    let top = v(y0, x0) * (1 - fx) + v(y0, x0 + 1) * fx
                    let bottom = v(y0 + 1, x0) * (1 - fx) + v(y0 + 1, x0 + 1) * fx
                    expected[(b * c + ch) * ho * wo + p] = Float(top * (1 - fy) + bottom * fy)
                }
            }
        }
        assertClose(out.data, expected, rtol: 1e-5, atol: 1e-5, "values")
        let (lhs, rhs) = GradientCheck.jvpAgainstVJP([img, grid]) {
            $0[0].gridSample2D($0[1], alignCorners: true, padding: .border)
        }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "⟨Jv,u⟩ = \(lhs) vs ⟨v,Jᵀu⟩ = \(rhs)")
        // The values' VJP alone: ⟨1, out⟩ sums each point's weights (1 per channel with border padding).
        img.grad = nil
        img.gridSample2D(grid.detached(), alignCorners: true, padding: .border).sum().backward()
        let total = img.grad!.reduce(0, +)
        #expect(abs(total - Float(n * c * ho * wo)) <= 1e-2 * total, "gradient mass \(total)")
    }

    @Test func nonFiniteCoordinatesReadZero() {
        let img = Tensor([1, 1, 2, 2], data: [1, 2, 3, 4])
        let g = Tensor([1, 1, 3, 2], data: [.nan, 0, 0, .infinity, 1e30, 0])
        let out = img.gridSample2D(g, wrapX: true)
        #expect(out.data[0] == 0 && out.data[1] == 0)
        #expect(out.data[2].isFinite)
    }
}
