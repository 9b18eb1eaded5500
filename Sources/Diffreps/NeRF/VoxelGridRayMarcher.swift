import Foundation
import TensorCore

// The fused render path of a voxel grid (docs/DESIGN.md §2 "Diffreps"). The tape path renders a
// batch of rays in four ops — StratifiedSampler (points), TrilinearInterpolation (density and
// colour, activated), Tensor.composite — each writing arrays of R·S samples that the next one
// reads and that the backward pass keeps. This path walks each ray once, sample by sample, in
// one op per output, and keeps no per-sample array: the VJP marches the ray again into a small
// scratch of its own, walks it back with suffix sums (instant-ngp's compositor) and
// scatter-adds into the grids' gradient; the JVP marches once with the tangent grids beside the
// values. The grids are read from one interleaved copy `[N³, 4]` (raw density, raw r, g, b), so
// each cell corner is one 16-byte load.
//
// The arithmetic is the tape path's, operation for operation (sample placement, cell and
// fractions, the corner weights, the activations, the compositing alpha), so with termination
// threshold 0 both compute the same values; the gradients differ only in the order their
// scatter adds up when the two paths split the work differently.
//
// Early termination: a ray stops after the first sample that leaves its transmittance below
// `threshold`, and the transmittance left goes to the background. That is a (slightly) different
// function, and both derivatives are exactly its derivatives.

/// Marches rays through a ``VoxelGridField`` with three colour channels: forward, VJP and JVP
/// kernels over the interleaved grid (internal; ``VoxelGridField/marchedRender(rays:samplesPerRay:offsets:background:transmittanceThreshold:)``
/// puts them on the tape).
struct VoxelGridRayMarcher: Sendable {
    let rayCount: Int
    let samplesPerRay: Int
    /// Ray origins and unit directions `[R, 3]`.
    let origins: [Float], directions: [Float]
    /// Where sample `r·S + i` sits in its bin, `[R·S]` in `[0, 1)`; empty for bin midpoints.
    let offsets: [Float]
    let box: SceneBox
    /// Grid vertices per axis `N`.
    let resolution: Int
    /// Raw density and raw colour interleaved, `[N³, 4]`.
    let grid: [SIMD4<Float>]
    let densityActivation: TrilinearInterpolation.Activation
    /// Background colour `[3]`.
    let background: [Float]
    /// A ray stops once its transmittance is below this (0: never).
    let threshold: Float

    /// Samples whose activations are computed together (one vectorised loop each).
    static let block = 16

    /// Raw density and colour `[1, 1, N, N, N]` and `[1, 3, N, N, N]` interleaved: `[N³, 4]`.
    static func interleave(density: [Float], color: [Float]) -> [SIMD4<Float>] {
        let n = density.count
        precondition(color.count == 3 * n, "VoxelGridRayMarcher: three colour channels expected")
        return [SIMD4<Float>](unsafeUninitializedCapacity: n) { out, count in
            density.withUnsafeBufferPointer { d in color.withUnsafeBufferPointer { c in
                for v in 0..<n { out[v] = SIMD4(d[v], c[v], c[n &+ v], c[2 &* n &+ v]) }
            }}
            count = n
        }
    }

    /// The inverse of ``interleave(density:color:)``: `[N³]` and `[3·N³]`.
    static func split(_ packed: [Float]) -> (density: [Float], color: [Float]) {
        let n = packed.count / 4
        var density = [Float](repeating: 0, count: n), color = [Float](repeating: 0, count: 3 * n)
        packed.withUnsafeBufferPointer { p in density.withUnsafeMutableBufferPointer { d in color.withUnsafeMutableBufferPointer { c in
            for v in 0..<n {
                d[v] = p[4 &* v]
                c[v] = p[4 &* v &+ 1]; c[n &+ v] = p[4 &* v &+ 2]; c[2 &* n &+ v] = p[4 &* v &+ 3]
            }
        }}}
        return (density, color)
    }

    // MARK: - One ray

    /// One ray's samples as marched (a worker's scratch for `S` samples; sample `i` at index `i`).
    struct Samples {
        /// Distance along the ray, density σ, dσ/d(raw), weight `w_i`, transmittance `T_{i+1}`: `[S]`.
        let t, sigma, sigmaSlope, weight, transNext: UnsafeMutablePointer<Float>
        /// Colour, d colour/d(raw) and the fractions `(fx, fy, fz)` in the cell: `[S, 3]`.
        let rgb, rgbSlope, fraction: UnsafeMutablePointer<Float>
        /// Lower cell corner (linear vertex index): `[S]`.
        let corner: UnsafeMutablePointer<Int32>
        /// Interpolated raw tangent (density, r, g, b), JVP only: `[S]`.
        let tangent: UnsafeMutablePointer<SIMD4<Float>>

        /// Runs `body` with scratch for `S` samples.
        static func with<T>(samples S: Int, _ body: (Samples) -> T) -> T {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 14 * S) { f in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: S) { c in
            withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: S) { v in
                let p = f.baseAddress!
                return body(Samples(t: p, sigma: p + S, sigmaSlope: p + 2 * S, weight: p + 3 * S, transNext: p + 4 * S,
                                    rgb: p + 5 * S, rgbSlope: p + 8 * S, fraction: p + 11 * S,
                                    corner: c.baseAddress!, tangent: v.baseAddress!))
            }}}
        }
    }

    /// What marching one ray gives.
    struct Ray {
        /// Samples composited (`S` unless the ray stopped early; 0 for rays that miss the box).
        var count = 0
        /// Bin width `δ` (every sample's interval).
        var delta: Float = 0
        /// Transmittance after the last sample composited, `T_S`.
        var trans: Float = 1
        /// Optical depth `Σ σ_i·δ_i` of the samples composited.
        var optical: Float = 0
        /// `Σ w_i·c_i + T_S·background`.
        var color = SIMD3<Float>(repeating: 0)
        /// `Σ w_i·t_i`.
        var depth: Float = 0
    }

    /// Marches ray `r` into `s`: samples, activations (with their slopes when `slopes`; the
    /// interpolated tangent from `tangentGrid` when given) and compositing, block by block
    /// until the transmittance falls below ``threshold``.
    @inline(__always)
    func march(_ r: Int, into s: Samples, grid g: UnsafePointer<SIMD4<Float>>, offsets up: UnsafePointer<Float>?,
               slopes: Bool, tangentGrid tg: UnsafePointer<SIMD4<Float>>?) -> Ray {
        var ray = Ray()
        let o = origins.withUnsafeBufferPointer { SIMD3($0[3 &* r], $0[3 &* r &+ 1], $0[3 &* r &+ 2]) }
        let d = directions.withUnsafeBufferPointer { SIMD3($0[3 &* r], $0[3 &* r &+ 1], $0[3 &* r &+ 2]) }
        guard let (near, far) = box.intersect(origin: o, direction: d) else {
            ray.color = SIMD3(background[0], background[1], background[2])
            return ray
        }
        let S = samplesPerRay, N = resolution, W = N, HW = N &* N
        let inv = 1 / box.halfExtent, extent = Float(N - 1)
        let width = (far - near) / Float(S)
        ray.delta = width
        var trans: Float = 1, depth: Float = 0, optical: Float = 0
        var acc = SIMD3<Float>(repeating: 0)
        var start = 0
        marching: while start < S {
            let end = Swift.min(S, start &+ Self.block)
            for i in start..<end {
                let u = up.map { $0[r &* S &+ i] } ?? 0.5
                let t = near + (Float(i) + u) * width
                let (ix, fx) = TrilinearInterpolation.split(o.x + t * d.x, inverseHalfExtent: inv, extent: extent)
                let (iy, fy) = TrilinearInterpolation.split(o.y + t * d.y, inverseHalfExtent: inv, extent: extent)
                let (iz, fz) = TrilinearInterpolation.split(o.z + t * d.z, inverseHalfExtent: inv, extent: extent)
                let corner = iz &* HW &+ iy &* W &+ ix
                let (w000, w001, w010, w011, w100, w101, w110, w111) = TrilinearInterpolation.cornerWeights(fx: fx, fy: fy, fz: fz)
                @inline(__always) func interpolate(_ v: UnsafePointer<SIMD4<Float>>) -> SIMD4<Float> {
                    let a = w000 * v[0] + w001 * v[1] + w010 * v[W] + w011 * v[W &+ 1]
                    let b = w100 * v[HW] + w101 * v[HW &+ 1] + w110 * v[HW &+ W] + w111 * v[HW &+ W &+ 1]
                    return a + b
                }
                let raw = interpolate(g + corner)
                s.t[i] = t
                s.corner[i] = Int32(truncatingIfNeeded: corner)
                s.fraction[3 &* i] = fx; s.fraction[3 &* i &+ 1] = fy; s.fraction[3 &* i &+ 2] = fz
                s.sigma[i] = raw[0]
                s.rgb[3 &* i] = raw[1]; s.rgb[3 &* i &+ 1] = raw[2]; s.rgb[3 &* i &+ 2] = raw[3]
                if let tg { s.tangent[i] = interpolate(tg + corner) }
            }
            let n = end &- start
            densityActivation.apply(s.sigma + start, n, slope: slopes ? s.sigmaSlope + start : nil)
            TrilinearInterpolation.Activation.tanh.apply(s.rgb + 3 &* start, 3 &* n, slope: slopes ? s.rgbSlope + 3 &* start : nil)
            for i in start..<end {
                let sv = s.sigma[i] * width
                let w = trans * Tensor.compositingAlpha(opticalDepth: sv)
                trans -= w
                optical += sv
                s.weight[i] = w
                s.transNext[i] = trans
                depth += w * s.t[i]
                acc += w * SIMD3(s.rgb[3 &* i], s.rgb[3 &* i &+ 1], s.rgb[3 &* i &+ 2])
                ray.count = i &+ 1
                if trans < threshold { break marching }
            }
            start = end
        }
        ray.trans = trans
        ray.optical = optical
        ray.depth = depth
        ray.color = acc + trans * SIMD3(background[0], background[1], background[2])
        return ray
    }

    /// Rays per parallel chunk (about 4096 samples).
    var minRaysPerChunk: Int { Swift.max(1, 4096 / samplesPerRay) }

    /// Runs `body(r, scratch, grid, offsets)` for every ray, in parallel blocks of rays.
    func forEachRay(_ body: (Int, Samples, UnsafePointer<SIMD4<Float>>, UnsafePointer<Float>?) -> Void) {
        let R = rayCount, chunk = minRaysPerChunk, S = samplesPerRay
        grid.withUnsafeBufferPointer { gp in offsets.withUnsafeBufferPointer { op in
            nonisolated(unsafe) let gp = gp.baseAddress!, op = offsets.isEmpty ? nil : op.baseAddress
            Parallel.forEach((R + chunk - 1) / chunk) { k in
                Samples.with(samples: S) { s in
                    for r in (k &* chunk)..<Swift.min(R, (k &+ 1) &* chunk) { body(r, s, gp, op) }
                }
            }
        }}
    }

    // MARK: - Forward and JVP

    /// What the forward pass gives (and keeps for the VJP).
    struct Forward: Sendable {
        var color: [Float]          // [R, 3]
        var opacity: [Float]        // [R]
        var depth: [Float]          // [R]
        var transFinal: [Float]     // [R]  T_S
    }

    /// Tangents of the three outputs.
    struct Tangents: Sendable {
        var color: [Float]          // [R, 3]
        var opacity: [Float]        // [R]
        var depth: [Float]          // [R]
    }

    /// Colour, opacity and depth of every ray; with `tangentGrid` (`[N³, 4]`, the grids'
    /// tangents interleaved) also their tangents, `hasDensityTangent` / `hasColorTangent` saying
    /// which parts are there (the others are zero) and `backgroundTangent` `[3]` the background's.
    func forward(tangentGrid: [SIMD4<Float>]? = nil, hasDensityTangent: Bool = false, hasColorTangent: Bool = false,
                 backgroundTangent: [Float]? = nil) -> (Forward, Tangents?) {
        let R = rayCount
        func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
        var out = Forward(color: zeros(3 * R), opacity: zeros(R), depth: zeros(R), transFinal: zeros(R))
        let wantTangent = tangentGrid != nil
        var tangents = Tangents(color: zeros(wantTangent ? 3 * R : 0), opacity: zeros(wantTangent ? R : 0),
                                depth: zeros(wantTangent ? R : 0))
        let tangentValues = tangentGrid ?? [], bgTangent = backgroundTangent ?? [0, 0, 0]
        let hasBg = backgroundTangent != nil
        let bg = SIMD3(background[0], background[1], background[2])
        out.color.withUnsafeMutableBufferPointer { oc in out.opacity.withUnsafeMutableBufferPointer { oo in
        out.depth.withUnsafeMutableBufferPointer { od in out.transFinal.withUnsafeMutableBufferPointer { of in
        tangents.color.withUnsafeMutableBufferPointer { tc in tangents.opacity.withUnsafeMutableBufferPointer { to in
        tangents.depth.withUnsafeMutableBufferPointer { td in tangentValues.withUnsafeBufferPointer { tv in
            nonisolated(unsafe) let oc = oc.baseAddress!, oo = oo.baseAddress!, od = od.baseAddress!, of = of.baseAddress!
            nonisolated(unsafe) let tc = tc.baseAddress, to = to.baseAddress, td = td.baseAddress
            nonisolated(unsafe) let tv = wantTangent ? tv.baseAddress : nil
            forEachRay { r, s, g, up in
                let ray = march(r, into: s, grid: g, offsets: up, slopes: wantTangent, tangentGrid: tv)
                oc[3 &* r] = ray.color.x; oc[3 &* r &+ 1] = ray.color.y; oc[3 &* r &+ 2] = ray.color.z
                oo[r] = -Foundation.expm1(-ray.optical)
                od[r] = ray.depth
                of[r] = ray.trans
                guard wantTangent else { return }
                // Compositor JVP with a_i = δ·σ̇_i and the prefix A_i = Σ_{j<i} a_j (VolumeCompositing.swift).
                var o = SIMD3<Float>(repeating: 0), prefix: Float = 0, depthDot: Float = 0
                for i in 0..<ray.count {
                    let c = SIMD3(s.rgb[3 &* i], s.rgb[3 &* i &+ 1], s.rgb[3 &* i &+ 2])
                    let w = s.weight[i]
                    if hasDensityTangent {
                        let a = ray.delta * (s.tangent[i][0] * s.sigmaSlope[i])
                        let wDot = s.transNext[i] * a - w * prefix
                        o += wDot * c
                        depthDot += wDot * s.t[i]
                        prefix += a
                    }
                    if hasColorTangent {
                        let cs = SIMD3(s.rgbSlope[3 &* i], s.rgbSlope[3 &* i &+ 1], s.rgbSlope[3 &* i &+ 2])
                        o += w * (SIMD3(s.tangent[i][1], s.tangent[i][2], s.tangent[i][3]) * cs)
                    }
                }
                if hasDensityTangent { o -= ray.trans * prefix * bg }
                if hasBg { o += ray.trans * SIMD3(bgTangent[0], bgTangent[1], bgTangent[2]) }
                tc![3 &* r] = o.x; tc![3 &* r &+ 1] = o.y; tc![3 &* r &+ 2] = o.z
                to![r] = ray.trans * prefix
                td![r] = depthDot
            }
        }}}}}}}}
        return (out, wantTangent ? tangents : nil)
    }

    // MARK: - VJP

    /// Which output a gradient belongs to.
    enum Output { case color, opacity, depth }

    /// The VJP of one output (`g` `[R, 3]` for the colour, `[R]` otherwise): the gradient of the
    /// interleaved raw grid, `[N³·4]` (density, r, g, b per vertex).
    func backward(_ output: Output, _ g: [Float]) -> [Float] {
        let S = samplesPerRay, W = resolution, HW = resolution * resolution
        let bg = SIMD3(background[0], background[1], background[2])
        return g.withUnsafeBufferPointer { gp in
            nonisolated(unsafe) let gp = gp.baseAddress!
            return grid.withUnsafeBufferPointer { grid in offsets.withUnsafeBufferPointer { op in
            nonisolated(unsafe) let grid = grid.baseAddress!, op = offsets.isEmpty ? nil : op.baseAddress
            return ChunkBuffers.scatter(points: rayCount, size: 4 * self.grid.count, minPerChunk: minRaysPerChunk) { buffer, rays in
            Samples.with(samples: S) { s in
                let dGrid = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: SIMD4<Float>.self)
                for r in rays {
                    let ray = march(r, into: s, grid: grid, offsets: op, slopes: true, tangentGrid: nil)
                    guard ray.count > 0 else { continue }
                    // ∂/∂σ_i and ∂/∂c_i, back to front (VolumeCompositing.swift), into sigma and rgb as d/d(raw).
                    switch output {
                    case .color:
                        let gr = SIMD3(gp[3 &* r], gp[3 &* r &+ 1], gp[3 &* r &+ 2])
                        let backTerm = ray.trans * dot3(gr, bg)
                        var suffix: Float = 0              // Σ_{k>i} w_k·(g·c_k)
                        var i = ray.count &- 1
                        while i >= 0 {
                            let c = SIMD3(s.rgb[3 &* i], s.rgb[3 &* i &+ 1], s.rgb[3 &* i &+ 2])
                            let gDotC = dot3(gr, c)
                            let w = s.weight[i]
                            s.sigma[i] = ray.delta * (s.transNext[i] * gDotC - suffix - backTerm) * s.sigmaSlope[i]
                            for k in 0..<3 { s.rgb[3 &* i &+ k] = w * gr[k] * s.rgbSlope[3 &* i &+ k] }
                            suffix += w * gDotC
                            i &-= 1
                        }
                    case .opacity:
                        let gt = gp[r] * ray.trans
                        for i in 0..<ray.count { s.sigma[i] = gt * ray.delta * s.sigmaSlope[i] }
                    case .depth:
                        var suffix: Float = 0              // Σ_{k>i} w_k·t_k
                        var i = ray.count &- 1
                        while i >= 0 {
                            s.sigma[i] = gp[r] * ray.delta * (s.transNext[i] * s.t[i] - suffix) * s.sigmaSlope[i]
                            suffix += s.weight[i] * s.t[i]
                            i &-= 1
                        }
                    }
                    // Scatter front to back, as the tape path's points come.
                    let hasColor = output == .color
                    for i in 0..<ray.count {
                        let (w000, w001, w010, w011, w100, w101, w110, w111) = TrilinearInterpolation.cornerWeights(
                            fx: s.fraction[3 &* i], fy: s.fraction[3 &* i &+ 1], fz: s.fraction[3 &* i &+ 2])
                        let x = hasColor ? SIMD4(s.sigma[i], s.rgb[3 &* i], s.rgb[3 &* i &+ 1], s.rgb[3 &* i &+ 2])
                                         : SIMD4(s.sigma[i], 0, 0, 0)
                        let v = dGrid + Int(s.corner[i])
                        v[0] += w000 * x; v[1] += w001 * x; v[W] += w010 * x; v[W &+ 1] += w011 * x
                        v[HW] += w100 * x; v[HW &+ 1] += w101 * x; v[HW &+ W] += w110 * x; v[HW &+ W &+ 1] += w111 * x
                    }
                }
            }}
            }}
        }
    }
}

/// `a·b` summed in channel order (as the compositor's loops do).
@inline(__always) private func dot3(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float {
    var s: Float = 0
    s += a.x * b.x
    s += a.y * b.y
    s += a.z * b.z
    return s
}

extension VoxelGridField {
    /// Renders `rays` through the fused path (``VoxelGridRayMarcher``): colour, opacity and
    /// depth as ``NeRFRenderer/render(_:samples:)`` gives them for this grid's stratified samples
    /// (`offsets` `[R·S]` places each sample in its bin, nil for the midpoints), each ray stopped
    /// once its transmittance is below `transmittanceThreshold` (0: never). Differentiable in
    /// reverse and forward mode in both grids and a learned `background` (`[3]`). Three colour
    /// channels only.
    ///
    /// ```swift
    /// let out = field.marchedRender(rays: rays, samplesPerRay: 48, offsets: nil,
    ///                               background: NeRFBackground.white.tensor(channels: 3), transmittanceThreshold: 1e-4)
    /// out.color.shape      // [R, 3]
    /// ```
    func marchedRender(rays: Rays, samplesPerRay S: Int, offsets: [Float]?, background: Tensor,
                       transmittanceThreshold: Float) -> RayRender {
        precondition(channels == 3, "marchedRender: three colour channels only, got \(channels)")
        precondition(background.shape == [3], "marchedRender: background must be [3], got \(background.shape)")
        precondition(offsets.map { $0.count == rays.count * S } ?? true, "marchedRender: offsets must hold R·S values")
        precondition(density.count <= Int(Int32.max), "marchedRender: grid too large")
        let R = rays.count
        let densityGrid = density, colorGrid = color
        let marcher = VoxelGridRayMarcher(
            rayCount: R, samplesPerRay: S, origins: rays.origins.data, directions: rays.directions.data,
            offsets: offsets ?? [], box: box, resolution: resolution,
            grid: VoxelGridRayMarcher.interleave(density: densityGrid.data, color: colorGrid.data),
            densityActivation: densityActivation == .softplus ? .softplus(bias: densityBias) : .exp(bias: densityBias),
            background: background.data, threshold: transmittanceThreshold)
        let hasDensityTangent = densityGrid.tangent != nil, hasColorTangent = colorGrid.tangent != nil
        let tangentGrid = hasDensityTangent || hasColorTangent || background.tangent != nil
            ? VoxelGridRayMarcher.interleave(density: densityGrid.tangentOrZeros, color: colorGrid.tangentOrZeros) : nil
        let (fwd, tangents) = marcher.forward(tangentGrid: tangentGrid, hasDensityTangent: hasDensityTangent,
                                              hasColorTangent: hasColorTangent, backgroundTangent: background.tangent)
        /// Adds the interleaved raw-grid gradient `[N³·4]` into the grids.
        func accumulate(_ packed: [Float], color withColor: Bool) {
            let (d, c) = VoxelGridRayMarcher.split(packed)
            densityGrid.accumulateGrad(d)
            if withColor { colorGrid.accumulateGrad(c) }
        }
        let color = Tensor.makeResult(
            op: "marchedRender.color", shape: [R, 3], data: fwd.color, parents: [densityGrid, colorGrid, background],
            backward: { g in
                if densityGrid.requiresGrad || colorGrid.requiresGrad { accumulate(marcher.backward(.color, g), color: true) }
                if background.requiresGrad {
                    background.accumulateGrad { dst in
                        for r in 0..<R { for c in 0..<3 { dst[c] += g[r * 3 + c] * fwd.transFinal[r] } }
                    }
                }
            },
            jvp: { tangents!.color })
        let opacity = Tensor.makeResult(
            op: "marchedRender.opacity", shape: [R], data: fwd.opacity, parents: [densityGrid],
            backward: { g in accumulate(marcher.backward(.opacity, g), color: false) },
            jvp: { tangents!.opacity })
        let depth = Tensor.makeResult(
            op: "marchedRender.depth", shape: [R], data: fwd.depth, parents: [densityGrid],
            backward: { g in accumulate(marcher.backward(.depth, g), color: false) },
            jvp: { tangents!.depth })
        return RayRender(color: color, opacity: opacity, depth: depth)
    }
}
