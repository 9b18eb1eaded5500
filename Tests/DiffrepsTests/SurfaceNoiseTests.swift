import Testing
import TensorCore
@testable import Diffreps

/// The view-consistent noise a NeRF carries: unit variance per pixel, nearly white, and the same
/// value for the same surface point seen from two views.
@Suite struct SurfaceNoiseTests {
    @Test func valuesAreStandardNormalAndDeterministic() {
        let noise = SurfaceNoise(seed: 3)
        var values: [Float] = []
        for i in 0..<40 { for j in 0..<40 { values.append(noise.value(at: SIMD3(Float(i) * 0.05 + 0.01, Float(j) * 0.05 + 0.01, 0.3), channel: 1)) } }
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
        #expect(abs(mean) < 0.08 && abs(variance - 1) < 0.1, "mean \(mean), variance \(variance)")
        #expect(noise.value(at: SIMD3(0.2, 0.3, 0.4), channel: 0) == SurfaceNoise(seed: 3).value(at: SIMD3(0.2, 0.3, 0.4), channel: 0))
        #expect(noise.value(at: SIMD3(0.2, 0.3, 0.4), channel: 0) != SurfaceNoise(seed: 4).value(at: SIMD3(0.2, 0.3, 0.4), channel: 0))
    }

    /// Rendered on the proxy sphere (an empty NeRF), neighbouring pixels are nearly uncorrelated
    /// and a surface point visible in two views carries the same value in both.
    @Test func renderedNoiseIsWhiteAndTurnsWithTheObject() {
        let noise = SurfaceNoise(seed: 5)
        let size = 32, plane = size * size
        let empty = [Float](repeating: 0, count: plane)
        let a = OrbitView(azimuth: 0, elevation: 0.3), b = OrbitView(azimuth: 0.4, elevation: 0.3)
        let ea = noise.render(view: a, size: size, channels: 1, opacity: empty, depth: empty)
        var s = 0.0, s2 = 0.0, lag = 0.0
        for i in 0..<size { for j in 0..<(size - 1) {
            let v = Double(ea[i * size + j]), w = Double(ea[i * size + j + 1])
            s += v; s2 += v * v; lag += v * w
        } }
        let n = Double(size * (size - 1))
        let variance = s2 / n - (s / n) * (s / n)
        #expect(abs(variance - 1) < 0.15, "variance \(variance)")
        #expect(abs(lag / n) < 0.4, "neighbour correlation \(lag / n)")
        // The centre pixel of view a sees a point of the proxy sphere; view b sees it too.
        let d = a.rayDirection(px: 16.5, py: 16.5, width: size, height: size)
        let x = noise.point(origin: a.position, direction: d, hitDistance: nil)
        #expect(abs((x * x).sum().squareRoot() - noise.proxyRadius) < 1e-3)
        #expect(noise.value(at: x, channel: 0) == ea[16 * size + 16])
        let eb = noise.render(view: b, size: size, channels: 1, opacity: empty, depth: empty)
        // Project x into b and compare with that pixel's value (the same cell).
        let v = x - b.position, z = (v * b.forward).sum()
        let t = Float(0.36397)   // tan(20°)
        let px = ((v * b.right).sum() / (z * t) + 1) * 16, py = (1 - (v * b.up).sum() / (z * t)) * 16
        let q = Int(py) * size + Int(px)
        let dq = b.rayDirection(px: Float(Int(px)) + 0.5, py: Float(Int(py)) + 0.5, width: size, height: size)
        let xq = noise.point(origin: b.position, direction: dq, hitDistance: nil)
        let sameCell = ((xq / noise.cellSize).rounded(.down) == (x / noise.cellSize).rounded(.down))
        if sameCell { #expect(eb[q] == ea[16 * size + 16]) }
        // Over the whole image: many of a's proxy points are found again in b with their value.
        var matches = 0, compared = 0
        for i in 4..<28 { for j in 4..<28 {
            let dir = a.rayDirection(px: Float(j) + 0.5, py: Float(i) + 0.5, width: size, height: size)
            let p = noise.point(origin: a.position, direction: dir, hitDistance: nil)
            guard (p * p).sum() < 1.01 else { continue }
            let vv = p - b.position, zz = (vv * b.forward).sum()
            let qx = Int(((vv * b.right).sum() / (zz * t) + 1) * 16), qy = Int((1 - (vv * b.up).sum() / (zz * t)) * 16)
            guard qx >= 0, qx < size, qy >= 0, qy < size else { continue }
            compared += 1
            if eb[qy * size + qx] == ea[i * size + j] { matches += 1 }
        } }
        #expect(compared > 200 && Double(matches) / Double(compared) > 0.3, "\(matches) of \(compared) points keep their noise")
    }
}
