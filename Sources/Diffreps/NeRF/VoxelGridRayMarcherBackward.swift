import Foundation
import TensorCore

// The derivatives of the fused voxel-grid render (VoxelGridRayMarcher.swift): each ray is
// marched again into its scratch, walked back with suffix sums (the compositor's VJP,
// VolumeCompositing.swift), and its samples' derivatives in the raw values are scatter-added
// front to back into the interleaved grid's gradient through ChunkBuffers (a buffer per
// worker, no atomics). The squared-error kernel does render, residual and VJP in that one pass.

extension VoxelGridRayMarcher {
    /// What one ray's outputs are worth to the loss.
    enum Cotangent {
        /// `∂loss/∂colour` in lanes 1…3 (lane 0 is 0).
        case color(SIMD4<Float>)
        /// `∂loss/∂opacity`.
        case opacity(Float)
        /// `∂loss/∂depth`.
        case depth(Float)
    }

    /// Fills `s.gradient[0..<ray.count]` with the loss's derivatives in each sample's raw
    /// (density, r, g, b), back to front.
    @inline(__always)
    func backpropagate(_ ray: Ray, _ s: Samples, _ cotangent: Cotangent) {
        let delta = ray.delta, P = s.capacity
        switch cotangent {
        case .color(let g):
            // ∂C/∂σ_i = δ·(T_{i+1}·c_i − Σ_{k>i} w_k·c_k − T_S·bg),  ∂C/∂c_i = w_i.
            let backTerm = ray.trans * Self.dot3(g, background)
            var suffix: Float = 0                                         // Σ_{k>i} w_k·(g·c_k)
            var i = ray.count &- 1
            while i >= 0 {
                let gDotC = Self.dot3(g, s.color(i)), w = s.weight[i]
                let slope = SIMD4(s.sigmaSlope[i], s.rgbSlope[i], s.rgbSlope[P &+ i], s.rgbSlope[2 &* P &+ i])
                let dSigma = delta * (s.transNext[i] * gDotC - suffix - backTerm)
                s.gradient[i] = (w * g).replacing(with: dSigma, where: Self.lane0) * slope
                suffix += w * gDotC
                i &-= 1
            }
        case .opacity(let g):
            let gt = g * ray.trans                                        // ∂opacity/∂σ_i = δ·T_S
            for i in 0..<ray.count { s.gradient[i] = SIMD4(gt * delta * s.sigmaSlope[i], 0, 0, 0) }
        case .depth(let g):
            var suffix: Float = 0                                         // Σ_{k>i} w_k·t_k
            var i = ray.count &- 1
            while i >= 0 {
                s.gradient[i] = SIMD4(g * delta * (s.transNext[i] * s.t[i] - suffix) * s.sigmaSlope[i], 0, 0, 0)
                suffix += s.weight[i] * s.t[i]
                i &-= 1
            }
        }
    }

    /// Adds `s.gradient[i]` times each corner weight into the interleaved gradient `dGrid` `[N³]`,
    /// for the ray's samples front to back.
    @inline(__always)
    func scatter(_ ray: Ray, _ s: Samples, into dGrid: UnsafeMutablePointer<SIMD4<Float>>) {
        let W = resolution, HW = resolution &* resolution, P = s.capacity
        for i in 0..<ray.count {
            let cw = s.cornerWeights + i, x = s.gradient[i]
            let v = dGrid + Int(s.corner[i])
            v[0] += cw[0] * x; v[1] += cw[P] * x; v[W] += cw[2 &* P] * x; v[W &+ 1] += cw[3 &* P] * x
            v[HW] += cw[4 &* P] * x; v[HW &+ 1] += cw[5 &* P] * x
            v[HW &+ W] += cw[6 &* P] * x; v[HW &+ W &+ 1] += cw[7 &* P] * x
        }
    }

    /// Lane 0 (the density's) of a sample's vector.
    static let lane0 = SIMD4<Int32>(0, 1, 2, 3) .== 0

    /// `a·b` over lanes 1…3, summed in channel order (as the compositor's loops do).
    @inline(__always)
    static func dot3(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> Float {
        var s: Float = 0
        s += a[1] * b[1]
        s += a[2] * b[2]
        s += a[3] * b[3]
        return s
    }

    /// Marches every ray, asks `cotangent(r, ray)` what its outputs are worth, and scatters the
    /// derivatives: the gradient of the interleaved raw grid, `[4·N³]` (density, r, g, b per vertex).
    func gradient(_ cotangent: (Int, Ray) -> Cotangent) -> [Float] {
        let S = samplesPerRay
        return withPointers { grid, up, geo in
            ChunkBuffers.scatter(points: rayCount, size: 4 * self.grid.count, minPerChunk: minRaysPerChunk) { buffer, rays in
                let dGrid = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: SIMD4<Float>.self)
                Samples.with(samples: S) { s in
                    for r in rays {
                        let ray = geo != nil ? march(r, into: s, grid: grid, offsets: up, geometry: geo, tangentGrid: nil)   // two inlined
                                                  : march(r, into: s, grid: grid, offsets: up, geometry: nil, tangentGrid: nil) // copies
                        let worth = cotangent(r, ray)
                        guard ray.count > 0 else { continue }                // a ray that misses the box
                        backpropagate(ray, s, worth)
                        scatter(ray, s, into: dGrid)
                    }
                }
            }
        }
    }

    /// Which output a VJP is for.
    enum Output { case color, opacity, depth }

    /// The VJP of one output (`g` `[R, 3]` for the colour, `[R]` otherwise): the gradient of
    /// the interleaved raw grid, `[4·N³]`.
    func backward(_ output: Output, _ g: [Float]) -> [Float] {
        g.withUnsafeBufferPointer { gp in
            nonisolated(unsafe) let gp = gp.baseAddress!
            return gradient { r, _ in
                switch output {
                case .color: .color(SIMD4(0, gp[3 &* r], gp[3 &* r &+ 1], gp[3 &* r &+ 2]))
                case .opacity: .opacity(gp[r])
                case .depth: .depth(gp[r])
                }
            }
        }
    }

    /// What the squared-error kernel gives.
    struct SquaredError {
        /// `Σ (colour − target)²` over every ray and channel.
        var sum: Double
        /// `∂/∂(raw grid)` of `scale·Σ (colour − target)²`, interleaved `[4·N³]`.
        var grid: [Float]
        /// `∂/∂background` of the same, `[3]`.
        var background: [Float]
    }

    /// Renders every ray and compares it with `targets` (`[K, 3, P]`: ray `r = k·P + p` against
    /// pixel `p` of image `k`, `P` = `pixelsPerImage`), and differentiates `scale·Σ (colour − target)²`
    /// — render, residual and VJP in one pass per ray.
    func squaredError(targets: [Float], pixelsPerImage P: Int, scale: Float) -> SquaredError {
        let R = rayCount
        precondition(targets.count == 3 * R && R % P == 0, "squaredError: targets must be [K, 3, \(P)] for \(R) rays")
        var perRay = [Float](repeating: 0, count: 4 * R)         // Σ_c (c − y)², then ∂/∂c · T_S per channel
        let grid = targets.withUnsafeBufferPointer { yp in perRay.withUnsafeMutableBufferPointer { pr in
            nonisolated(unsafe) let yp = yp.baseAddress!, pr = pr.baseAddress!
            return gradient { r, ray in
                let k = r / P, p = r &- k &* P, y = yp + (3 &* P &* k &+ p)
                var residual = ray.color - SIMD4(0, y[0], y[P], y[2 &* P])
                residual[0] = 0
                pr[4 &* r] = Self.dot3(residual, residual)
                let g = scale * 2 * residual
                for c in 1..<4 { pr[4 &* r &+ c] = g[c] * ray.trans }
                return .color(g)
            }
        }}
        var sum = 0.0, background = [Float](repeating: 0, count: 3)
        for r in 0..<R {
            sum += Double(perRay[4 * r])
            for c in 0..<3 { background[c] += perRay[4 * r + 1 + c] }
        }
        return SquaredError(sum: sum, grid: grid, background: background)
    }
}
