import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The hash encoding against a naive reference (dense and hashed levels), exactness on affine
/// tables, its derivatives, and the hash-grid field's derivatives and fit to a known scene.
@Suite struct HashGridTests {
    /// A small configuration: level 0 (4 cells, 125 vertices) is dense in 2⁸ entries, level 1
    /// (12 cells, 2197 vertices) is hashed.
    static let small = HashGridEncoding.Configuration(levels: 2, featuresPerLevel: 3, log2TableSize: 8,
                                                      baseResolution: 4, finestResolution: 12)

    /// Naive encoding of one world point, written from the definition.
    static func naive(_ table: [Float], _ c: HashGridEncoding.Configuration, _ p: SIMD3<Float>, b: Float) -> [Float] {
        var out = [Float](repeating: 0, count: c.outputFeatures)
        for (l, n) in c.resolutions.enumerated() {
            var g = [Float](repeating: 0, count: 3)
            for a in 0..<3 { g[a] = min(max((p[a] / b + 1) / 2, 0), 1) * Float(n) }
            let cell = g.map { min(Int($0.rounded(.down)), n - 1) }
            for dz in 0...1 { for dy in 0...1 { for dx in 0...1 {
                let v = [cell[0] + dx, cell[1] + dy, cell[2] + dz]
                let d = [dx, dy, dz]
                var w: Float = 1
                for a in 0..<3 { let f = g[a] - Float(cell[a]); w *= d[a] == 1 ? f : 1 - f }
                let row: Int
                if (n + 1) * (n + 1) * (n + 1) <= c.tableSize {
                    row = (v[2] * (n + 1) + v[1]) * (n + 1) + v[0]
                } else {
                    let h = UInt32(v[0]) ^ (UInt32(v[1]) &* 2_654_435_761) ^ (UInt32(v[2]) &* 805_459_861)
                    row = Int(h) % c.tableSize
                }
                for f in 0..<c.featuresPerLevel {
                    out[l * c.featuresPerLevel + f] += w * table[(l * c.tableSize + row) * c.featuresPerLevel + f]
                }
            }}}
        }
        return out
    }

    @Test func resolutionsGrowGeometricallyFromBaseToFinest() {
        #expect(Self.small.resolutions == [4, 12])
        #expect(HashGridEncoding.Configuration().resolutions == [8, 12, 18, 26, 39, 58, 86, 128])
        #expect(throws: HashGridError.self) { try HashGridEncoding.Configuration(log2TableSize: 30).validate() }
        #expect(throws: HashGridError.self) { try HashGridEncoding.Configuration(baseResolution: 64, finestResolution: 8).validate() }
    }

    @Test func matchesNaiveReferenceOnDenseAndHashedLevels() {
        let c = Self.small
        var rng = RandomGenerator(seed: 3)
        let table = rng.uniform(c.tableShape, in: -1...1)
        let points = rng.uniform([400, 3], in: -1.8...1.8)                // some outside the box
        let out = HashGridEncoding(points: points, box: SceneBox(), configuration: c).encode(table)
        #expect(out.shape == [400, c.outputFeatures])
        for p in 0..<400 {
            let pt = SIMD3(points.data[3 * p], points.data[3 * p + 1], points.data[3 * p + 2])
            assertClose(Array(out.data[p * 6..<p * 6 + 6]), Self.naive(table.data, c, pt, b: 1.5), atol: 1e-5, "point \(p)")
        }
    }

    @Test func denseLevelReproducesAffineFunctions() {
        // One dense level whose table holds f(x, y, z) = 0.5 + x − 2y + 3z at its vertices.
        let c = HashGridEncoding.Configuration(levels: 1, featuresPerLevel: 1, log2TableSize: 10, baseResolution: 6, finestResolution: 6)
        let n = 6, b: Float = 1.5
        var values = [Float](repeating: 0, count: c.tableSize)
        for z in 0...n { for y in 0...n { for x in 0...n {
            let w = { (i: Int) -> Float in -b + 2 * b * Float(i) / Float(n) }
            let (wx, wy, wz) = (w(x), w(y), w(z))
            values[(z * (n + 1) + y) * (n + 1) + x] = 0.5 + wx - 2 * wy + 3 * wz
        }}}
        var rng = RandomGenerator(seed: 4)
        let points = rng.uniform([200, 3], in: -b...b)
        let out = HashGridEncoding(points: points, box: SceneBox(halfExtent: b), configuration: c)
            .encode(Tensor(c.tableShape, data: values))
        let expected: [Float] = (0..<200).map { p in
            let x: Float = points.data[3 * p], y: Float = points.data[3 * p + 1], z: Float = points.data[3 * p + 2]
            return 0.5 + x - 2 * y + 3 * z
        }
        assertClose(out.data, expected, atol: 1e-4)
    }

    @Test func encodingDerivatives() {
        var rng = RandomGenerator(seed: 5)
        let table = rng.uniform(Self.small.tableShape, in: -1...1)
        let enc = HashGridEncoding(points: rng.uniform([9000, 3], in: -1.5...1.5), box: SceneBox(), configuration: Self.small)
        // 9000 points: the VJP scatters through several worker buffers.
        checkDerivatives([table], "hash encoding") { enc.encode($0[0]) }
    }

    @Test func fieldDerivativesInEveryParameter() {
        let field = HashGridField(encoding: Self.small, hiddenWidth: 8, seed: 2)
        // Tables large enough that the MLP's first layer sees a signal.
        var rng = RandomGenerator(seed: 6)
        field.table.data = rng.uniformValues(field.table.count).map { $0 - 0.5 }
        let points = rng.uniform([50, 3], in: -1.5...1.5)
        let params = field.parameters.tensors
        // The raw MLP outputs (density and colour before their activations; ReLU kinks make
        // finite differences of composites noisier).
        checkDerivatives(params, epsilon: 1e-2, tolerance: 3e-2, "hash field raw outputs") { _ in field.raw(points) }
        checkDerivatives(params, epsilon: 1e-2, tolerance: 3e-2, "hash field colour") { _ in field(points).color }
        checkDerivatives(params, epsilon: 1e-2, tolerance: 3e-2, "hash field prior") { _ in
            field.regularizer(smoothness: 0.1, sparsity: 0.1)!
        }
    }

    /// The fused network op (``HashGridNetwork``) computes what the op-by-op path computes: values,
    /// every parameter's gradient and the output's tangent, over many chunks and workers, for
    /// two features per level (the SIMD path) and three (the general one); no points works too.
    @Test(arguments: [HashGridEncoding.Configuration(), Self.small])
    func fusedNetworkMatchesOpByOp(_ config: HashGridEncoding.Configuration) {
        let field = HashGridField(encoding: config, hiddenWidth: 16, seed: 3)
        var rng = RandomGenerator(seed: 8)
        field.table.data = rng.uniformValues(field.table.count).map { $0 - 0.5 }
        let points = rng.uniform([5000, 3], in: -1.5...1.5)
        let params = field.parameters.tensors
        let cotangent = rng.normal([5000, 4])
        func run(_ raw: (Tensor) -> Tensor) -> (value: Tensor, grads: [[Float]], tangent: [Float]) {
            field.parameters.zeroGrad()
            for p in params { p.tangent = nil }
            let value = raw(points)
            (value * cotangent).sum().backward()
            let grads = params.map { $0.grad ?? [] }
            field.parameters.zeroGrad()
            var trng = RandomGenerator(seed: 9)
            for p in params { p.tangent = trng.normalValues(p.count) }
            let tangent = raw(points).tangent ?? []
            for p in params { p.tangent = nil }
            return (value, grads, tangent)
        }
        let fused = run { field.raw($0) }, reference = run { field.rawOpByOp($0) }
        assertClose(fused.value, reference.value, rtol: 1e-5, atol: 1e-5, "fused network values")
        for (k, name) in field.parameters.names.enumerated() {
            let scale = reference.grads[k].map(abs).max() ?? 0
            assertClose(fused.grads[k], reference.grads[k], rtol: 1e-4, atol: 1e-5 * max(scale, 1), "gradient of \(name)")
        }
        assertClose(fused.tangent, reference.tangent, rtol: 1e-4, atol: 1e-4, "fused network tangent")
        #expect(field.raw(Tensor.zeros([0, 3])).shape == [0, 4])
    }

    @Test func fieldFitsSphereAndGeneralisesAndMeshesIt() {
        let size = 32
        let train = (0..<8).map { k in OrbitView(azimuth: Float(k) * .pi / 4, elevation: k % 2 == 0 ? 0.1 : 0.5) }
        let heldOut = (0..<3).map { k in OrbitView(azimuth: (Float(k) + 0.25) * .pi / 1.5, elevation: 0.3) }
        let rays = Rays(views: train, width: size, height: size)
        let pixels = size * size
        var target = [Float](repeating: 0, count: rays.count * 3)
        for (v, view) in train.enumerated() {
            let img = NeRFFitTests.groundTruth(view, size: size)
            for p in 0..<pixels { for c in 0..<3 { target[(v * pixels + p) * 3 + c] = img[c * pixels + p] } }
        }
        let field = HashGridField(encoding: .init(levels: 4, log2TableSize: 12, baseResolution: 4, finestResolution: 32),
                                  hiddenWidth: 32, seed: 1)
        let renderer = NeRFRenderer(samplesPerRay: 48)
        var opt = Adam(parameters: field.parameters, learningRate: 0.02)
        var rng = RandomGenerator(seed: 1)
        let batch = 1024, steps = 250
        let start = Date()
        for _ in 0..<steps {
            let (batchRays, batchTargets) = NeRFFitTests.randomBatch(rays, targets: target, size: batch, using: &rng)
            let out = renderer.render(field, rays: batchRays, using: &rng)
            let loss = (out.color - batchTargets).square().mean()
            (loss + field.regularizer(smoothness: 1e-2, sparsity: 1e-3)!).backward()
            opt.step()
        }
        let scores = heldOut.map { view in
            NeRFFitTests.psnr(GradMode.withoutGrad { renderer.render(field, view: view, width: size, height: size).image }.data,
                              NeRFFitTests.groundTruth(view, size: size))
        }
        print("hash-grid NeRF fit: \(steps) steps in \(String(format: "%.2f", Date().timeIntervalSince(start))) s, "
              + "held-out PSNR \(scores.map { String(format: "%.2f", $0) }) dB")
        #expect(scores.min()! > 28, "held-out PSNR \(scores)")

        // The mesh at the default threshold: most of it on the sphere of radius 0.8, nothing
        // outside it (no floaters). The inside is not seen by any view, so surfaces there
        // (density dips below the threshold) are allowed.
        let mesh = field.extractMesh(resolution: 40)
        let radii = mesh.vertices.map { ($0 * $0).sum().squareRoot() }
        let n = Float(max(radii.count, 1))
        let onSphere = Float(radii.filter { abs($0 - 0.8) < 0.12 }.count) / n
        let outside = Float(radii.filter { $0 > 0.95 }.count) / n
        print("hash-grid mesh: \(mesh.triangles.count) triangles, \(onSphere) of vertices on the sphere, \(outside) outside")
        #expect(mesh.triangles.count > 200)
        #expect(onSphere > 0.5 && outside < 0.02, "on sphere \(onSphere), outside \(outside)")
    }
}
