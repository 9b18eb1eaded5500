import Foundation
import TensorCore

// The fused render path of a voxel grid (docs/DESIGN.md §2 "Diffreps"). The tape path renders a
// batch of rays in four ops — StratifiedSampler (points), TrilinearInterpolation (density and
// colour, activated), Tensor.composite — each writing arrays of R·S samples that the next one
// reads and the backward pass keeps. This path walks each ray once, in blocks of eight samples,
// keeping the block in a small scratch of its own (Samples, one array per quantity):
//   1. positions, cells, fractions and corner weights, four samples per vector;
//   2. per sample, the eight corners of the interleaved grid `[N³]` of (raw density, r, g, b):
//      one 16-byte load per corner;
//   3. the activations, σ = exp(min(raw + bias, 15)) and c = tanh(raw) = (e^{2 raw} − 1)/(e^{2 raw} + 1),
//      and α = 1 − exp(−σ·δ), four samples per vector;
//   4. compositing front to back, stopping after the sample that leaves the transmittance
//      below the threshold (the rest goes to the background).
// The derivatives march the ray again and walk it back with suffix sums, as instant-ngp's
// compositor does (VoxelGridRayMarcherBackward.swift).
//
// Each step is the tape path's arithmetic in the same order, except that α's exp is FastMath's
// (relative error 1e-7) rather than libm's: with threshold 0 both paths agree to rounding.
// With a threshold the render is a (slightly) different function, and both derivatives are
// exactly its derivatives.
//
// Measured (diffrep-bench solve, one thread, 393k samples): a render 6.3 ms against 10.7 ms on
// the tape path, the inner solve 176 ms against 496 ms. The vectors matter: per-sample vectors
// of (density, r, g, b) taken apart lane by lane made the compiler scalarise everything (370
// instructions per sample instead of 190).

/// Marches rays through a ``VoxelGridField`` with three colour channels (internal; the ops on
/// the tape are ``VoxelGridField/marchedRender(rays:samplesPerRay:offsets:background:transmittanceThreshold:)``
/// and ``VoxelGridField/marchedSquaredError(rays:samplesPerRay:background:transmittanceThreshold:targets:)``).
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
    /// Raw density and raw colour interleaved, `[N³]` of (density, r, g, b).
    let grid: [SIMD4<Float>]
    let densityActivation: VoxelGridField.DensityActivation
    let densityBias: Float
    /// Background colour in lanes 1…3 (lane 0 unused, 0).
    let background: SIMD4<Float>
    /// A ray stops once its transmittance is below this (0: never).
    let threshold: Float
    /// Where the samples fall, computed once for these rays (VoxelGridRayGeometry.swift); nil:
    /// every march locates its samples itself. Either way the same bits.
    var geometry: Geometry? = nil {
        didSet { precondition(geometry.map { $0.fits(self) } ?? true, "VoxelGridRayMarcher: the geometry is for other rays") }
    }

    /// Samples per block: positions and α are computed four at a time, termination is checked
    /// after every sample, and at most a block's work is spent past the stopping sample.
    static let block = 8

    /// Raw density `[N³]` and colour `[3·N³]` interleaved: `[N³]` of (density, r, g, b).
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

    /// The inverse of ``interleave(density:color:)`` on `[4·N³]` floats, each part scaled by `scale`.
    static func split(_ packed: [Float], scale: Float = 1) -> (density: [Float], color: [Float]) {
        let n = packed.count / 4
        return packed.withUnsafeBufferPointer { p in
            let density = [Float](unsafeUninitializedCapacity: n) { d, count in    // every entry written below
                for v in 0..<n { d[v] = scale * p[4 &* v] }
                count = n
            }
            let color = [Float](unsafeUninitializedCapacity: 3 * n) { c, count in
                for v in 0..<n {
                    c[v] = scale * p[4 &* v &+ 1]; c[n &+ v] = scale * p[4 &* v &+ 2]; c[2 &* n &+ v] = scale * p[4 &* v &+ 3]
                }
                count = 3 * n
            }
            return (density, color)
        }
    }

    // MARK: - One ray

    /// One ray's samples as marched: a worker's scratch for `S` samples (sample `i` at index `i`),
    /// padded to whole blocks. One array per quantity, so four samples fill a vector.
    struct Samples {
        /// Padded sample count (a multiple of ``VoxelGridRayMarcher/block``).
        let capacity: Int
        /// Distance along the ray, density σ and dσ/d(raw), α, weight `w_i`, transmittance `T_{i+1}`: `[S]`.
        let t, sigma, sigmaSlope, alpha, weight, transNext: UnsafeMutablePointer<Float>
        /// Colour and d colour/d(raw), channel `c` of sample `i` at `c·capacity + i`.
        let rgb, rgbSlope: UnsafeMutablePointer<Float>
        /// The eight corner weights, corner `k` (`dz dy dx` in binary) of sample `i` at `k·capacity + i`.
        let cornerWeights: UnsafeMutablePointer<Float>
        /// Lower cell corner (linear vertex index): `[S]`.
        let corner: UnsafeMutablePointer<Int32>
        /// Interpolated raw (density, r, g, b); JVP: the raw tangent, then the activated one;
        /// VJP: the loss's derivatives in the raw values. `[S]`.
        let raw, tangent, gradient: UnsafeMutablePointer<SIMD4<Float>>

        /// Runs `body` with scratch for `samples` samples.
        static func with<T>(samples: Int, _ body: (Samples) -> T) -> T {
            let P = (samples + block - 1) / block * block
            let floats = 20 * P
            // Every part starts on a 16-byte boundary: P is a multiple of 4 floats.
            return withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: 3 * P + floats / 4) { v in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: P) { c in
                let v = v.baseAddress!
                let f = UnsafeMutableRawPointer(v + 3 * P).bindMemory(to: Float.self, capacity: floats)
                return body(Samples(capacity: P, t: f, sigma: f + P, sigmaSlope: f + 2 * P, alpha: f + 3 * P,
                                    weight: f + 4 * P, transNext: f + 5 * P, rgb: f + 6 * P, rgbSlope: f + 9 * P,
                                    cornerWeights: f + 12 * P, corner: c.baseAddress!, raw: v, tangent: v + P, gradient: v + 2 * P))
            }}
        }

        /// The four floats of `array` from sample `i` (a multiple of 4).
        @inline(__always) func load(_ array: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD4<Float> {
            UnsafeRawPointer(array + i).load(as: SIMD4<Float>.self)
        }

        /// Stores four samples' values into `array` from sample `i` (a multiple of 4).
        @inline(__always) func store(_ x: SIMD4<Float>, _ array: UnsafeMutablePointer<Float>, _ i: Int) {
            UnsafeMutableRawPointer(array + i).storeBytes(of: x, as: SIMD4<Float>.self)
        }

        /// Sample `i`'s colour (lanes 1…3; lane 0 is 0).
        @inline(__always) func color(_ i: Int) -> SIMD4<Float> {
            SIMD4(0, rgb[i], rgb[capacity &+ i], rgb[2 &* capacity &+ i])
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
        /// `Σ w_i·c_i + T_S·background` in lanes 1…3.
        var color = SIMD4<Float>(repeating: 0)
        /// `Σ w_i·t_i`.
        var depth: Float = 0
    }

    /// Grid coordinates `g0` (before clamping) on an axis of `n + 1` vertices: clamped to
    /// `[0, n]` (NaN → 0), split into the lower vertex (at most `n − 1`) and the fraction past
    /// it — TrilinearInterpolation's arithmetic, four lanes at a time.
    @inline(__always)
    static func split(_ g0: SIMD4<Float>, extent n: Float) -> (index: SIMD4<Int32>, fraction: SIMD4<Float>) {
        var g = g0
        g.replace(with: n, where: g0 .> n)
        g.replace(with: 0, where: .!(g0 .>= 0))
        let magic = SIMD4<Float>(repeating: 12_582_912)          // 1.5·2²³: adding it rounds to an integer
        let nearest = (g + magic) - magic
        var lower = nearest
        lower.replace(with: nearest - 1, where: nearest .> g)   // floor
        lower.replace(with: n - 1, where: lower .> n - 1)
        return (unsafeBitCast(lower + magic, to: SIMD4<Int32>.self) &- 0x4B40_0000, g - lower)
    }

    /// Origin and unit direction of ray `r`.
    @inline(__always)
    func ray(_ r: Int) -> (origin: SIMD3<Float>, direction: SIMD3<Float>) {
        origins.withUnsafeBufferPointer { op in directions.withUnsafeBufferPointer { dp in
            (SIMD3(op[3 &* r], op[3 &* r &+ 1], op[3 &* r &+ 2]), SIMD3(dp[3 &* r], dp[3 &* r &+ 1], dp[3 &* r &+ 2]))
        }}
    }

    /// Where a ray from `o` along `d` enters the box, and its bin width `δ` (the box's chord over
    /// ``samplesPerRay``); nil if it misses the box.
    @inline(__always)
    func bins(origin o: SIMD3<Float>, direction d: SIMD3<Float>) -> (near: Float, width: Float)? {
        guard let (near, far) = box.intersect(origin: o, direction: d) else { return nil }
        return (near, (far - near) / Float(samplesPerRay))
    }

    /// Samples `i…i+3` of ray `r` (entering the box at `near`, bins `width` apart): distances,
    /// lower cell corners (linear vertex index) and the fractions past them. `inv` is
    /// `1 / box.halfExtent` and `n` the cells per axis, `N − 1` (hoisted by the callers).
    @inline(__always)
    func locate(_ r: Int, _ i: Int, origin o: SIMD3<Float>, direction d: SIMD3<Float>, near: Float, width: Float,
                offsets up: UnsafePointer<Float>?, inv: Float, n: Float)
        -> (t: SIMD4<Float>, corner: SIMD4<Int32>, fx: SIMD4<Float>, fy: SIMD4<Float>, fz: SIMD4<Float>) {
        let S = samplesPerRay, N = resolution
        var u = SIMD4<Float>(repeating: 0.5)
        if let up {
            for l in 0..<4 where i &+ l < S { u[l] = up[r &* S &+ i &+ l] }
        }
        let t = near + (SIMD4<Float>(0, 1, 2, 3) + Float(i) + u) * width
        let (ix, fx) = Self.split((((o.x + t * d.x) * inv + 1) * 0.5) * n, extent: n)
        let (iy, fy) = Self.split((((o.y + t * d.y) * inv + 1) * 0.5) * n, extent: n)
        let (iz, fz) = Self.split((((o.z + t * d.z) * inv + 1) * 0.5) * n, extent: n)
        return (t, iz &* Int32(N &* N) &+ iy &* Int32(N) &+ ix, fx, fy, fz)
    }

    /// Marches ray `r` into `s`: samples (read from `geometry` when given), activations (with
    /// their derivatives; the tangents from `tangentGrid` when given) and compositing, block by
    /// block until the transmittance falls below ``threshold``.
    @inline(__always)
    func march(_ r: Int, into s: Samples, grid g: UnsafePointer<SIMD4<Float>>, offsets up: UnsafePointer<Float>?,
               geometry geo: Geometry.Pointers?, tangentGrid tg: UnsafePointer<SIMD4<Float>>?) -> Ray {
        var ray = Ray()
        let (o, d) = self.ray(r)
        let near: Float, width: Float
        if let geo {
            guard geo.width[r] >= 0 else {
                ray.color = background
                return ray
            }
            (near, width) = (geo.near[r], geo.width[r])
        } else {
            guard let entry = bins(origin: o, direction: d) else {
                ray.color = background
                return ray
            }
            (near, width) = entry
        }
        let S = samplesPerRay, N = resolution, W = N, HW = N &* N, P = s.capacity
        let inv = 1 / box.halfExtent, n = Float(N - 1)
        ray.delta = width
        let exponential = densityActivation == .exp, bias = densityBias, top: Float = 15
        var trans: Float = 1, depth: Float = 0, optical: Float = 0
        var red: Float = 0, green: Float = 0, blue: Float = 0
        var start = 0
        marching: while start < S {
            let end = Swift.min(S, start &+ Self.block)
            let groups = (end &+ 3) & ~3          // the block in whole groups of four (lanes past S are padding)
            // 1. Positions, cells, fractions and corner weights, four samples per vector.
            var i = start
            while i < groups {
                let t: SIMD4<Float>, corner: SIMD4<Int32>, fx: SIMD4<Float>, fy: SIMD4<Float>, fz: SIMD4<Float>
                if let geo {
                    (t, fx, fy, fz) = (geo.load(geo.t, r, i), geo.load(geo.fx, r, i), geo.load(geo.fy, r, i), geo.load(geo.fz, r, i))
                    corner = UnsafeRawPointer(geo.corner + (r &* P &+ i)).load(as: SIMD4<Int32>.self)
                } else {
                    (t, corner, fx, fy, fz) = locate(r, i, origin: o, direction: d, near: near, width: width, offsets: up, inv: inv, n: n)
                }
                let gx = 1 - fx, gy = 1 - fy, gz = 1 - fz
                @inline(__always) func store(_ k: Int, _ w: SIMD4<Float>) {
                    UnsafeMutableRawPointer(s.cornerWeights + (k &* P &+ i)).storeBytes(of: w, as: SIMD4<Float>.self)
                }
                store(0, gz * gy * gx); store(1, gz * gy * fx); store(2, gz * fy * gx); store(3, gz * fy * fx)
                store(4, fz * gy * gx); store(5, fz * gy * fx); store(6, fz * fy * gx); store(7, fz * fy * fx)
                UnsafeMutableRawPointer(s.t + i).storeBytes(of: t, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(s.corner + i).storeBytes(of: corner, as: SIMD4<Int32>.self)
                i &+= 4
            }
            // 2. The eight corners: raw (density, r, g, b) per sample as one vector (and the raw
            //    tangent), stored whole: a vector taken apart lane by lane here makes the compiler
            //    give up vectors for the whole interpolation.
            for i in start..<groups {
                let cw = s.cornerWeights + i, corner = Int(s.corner[i])
                @inline(__always) func interpolate(_ v: UnsafePointer<SIMD4<Float>>) -> SIMD4<Float> {
                    let a = cw[0] * v[0] + cw[P] * v[1] + cw[2 &* P] * v[W] + cw[3 &* P] * v[W &+ 1]
                    let b = cw[4 &* P] * v[HW] + cw[5 &* P] * v[HW &+ 1] + cw[6 &* P] * v[HW &+ W] + cw[7 &* P] * v[HW &+ W &+ 1]
                    return a + b
                }
                s.raw[i] = interpolate(g + corner)
                if let tg { s.tangent[i] = interpolate(tg + corner) }
            }
            // 3. The activations and α = 1 − exp(−σδ), four samples per vector (the tape path's
            //    arithmetic: σ = exp(min(raw + bias, 15)), c = tanh(raw) = (e^{2 raw} − 1)/(e^{2 raw} + 1)).
            i = start
            while i < groups {
                let raw = UnsafeRawPointer(s.raw + i).assumingMemoryBound(to: Float.self)   // four samples' raw vectors
                @inline(__always) func lanes(_ c: Int) -> SIMD4<Float> { SIMD4(raw[c], raw[4 &+ c], raw[8 &+ c], raw[12 &+ c]) }
                let sigma: SIMD4<Float>
                if exponential {
                    let z = lanes(0) + bias
                    var clamped = z
                    clamped.replace(with: top, where: .!(z .< top))
                    sigma = FastMath.exp(clamped)
                    s.store(sigma.replacing(with: 0, where: .!(z .< top)), s.sigmaSlope, i)
                } else {
                    var value = SIMD4<Float>(), slope = SIMD4<Float>()
                    for l in 0..<4 { (value[l], slope[l]) = Self.softplus(raw[4 &* l] + bias) }
                    sigma = value
                    s.store(slope, s.sigmaSlope, i)
                }
                s.store(sigma, s.sigma, i)
                for c in 0..<3 {
                    let e = FastMath.exp(2 * lanes(1 &+ c))
                    let tanh = (e - 1) / (e + 1)
                    s.store(tanh, s.rgb, c &* P &+ i)
                    s.store(1 - tanh * tanh, s.rgbSlope, c &* P &+ i)
                }
                let sv = sigma * width
                var alpha = 1 - FastMath.exp(-sv)
                alpha.replace(with: sv * (1 - 0.5 * sv * (1 - sv * (1.0 / 3))), where: sv .< 1e-3)
                s.store(alpha, s.alpha, i)
                i &+= 4
            }
            if tg != nil {
                for i in start..<end {
                    s.tangent[i] *= SIMD4(s.sigmaSlope[i], s.rgbSlope[i], s.rgbSlope[P &+ i], s.rgbSlope[2 &* P &+ i])
                }
            }
            // 4. Compositing, front to back.
            for i in start..<end {
                let w = trans * s.alpha[i]
                trans -= w
                optical += s.sigma[i] * width
                s.weight[i] = w
                s.transNext[i] = trans
                depth += w * s.t[i]
                red += w * s.rgb[i]; green += w * s.rgb[P &+ i]; blue += w * s.rgb[2 &* P &+ i]
                ray.count = i &+ 1
                if trans < threshold { break marching }
            }
            start = end
        }
        ray.trans = trans
        ray.optical = optical
        ray.depth = depth
        ray.color = SIMD4(0, red, green, blue) + trans * background
        return ray
    }

    /// `softplus(z) = max(z, 0) + log(1 + e^−|z|)` and its derivative (TrilinearInterpolation's arithmetic).
    @inline(__always)
    static func softplus(_ z: Float) -> (Float, Float) {
        let e = FastMath.exp(-Swift.abs(z))
        return (Swift.max(z, 0) + (e < 1e-4 ? e * (1 - 0.5 * e) : Foundation.log(1 + e)), z >= 0 ? 1 / (1 + e) : e / (1 + e))
    }

    /// Rays per parallel chunk (about 4096 samples).
    var minRaysPerChunk: Int { Swift.max(1, 4096 / samplesPerRay) }

    /// Calls `body(grid, offsets, geometry)` with pointers to the interleaved grid, the offsets
    /// (nil for midpoints) and the ``geometry`` (nil without one).
    func withPointers<T>(_ body: (UnsafePointer<SIMD4<Float>>, UnsafePointer<Float>?, Geometry.Pointers?) -> T) -> T {
        grid.withUnsafeBufferPointer { gp in offsets.withUnsafeBufferPointer { op in
            if let geometry {
                geometry.withPointers { body(gp.baseAddress!, offsets.isEmpty ? nil : op.baseAddress, $0) }
            } else {
                body(gp.baseAddress!, offsets.isEmpty ? nil : op.baseAddress, nil)
            }
        }}
    }

    // MARK: - Forward and JVP

    /// What the forward pass gives (and the VJP of the background needs).
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

    /// Colour, opacity and depth of every ray; with `tangentGrid` (`[N³]`, the grids' tangents
    /// interleaved) also their tangents, `hasDensityTangent` / `hasColorTangent` saying which
    /// parts are there (the others are zero) and `backgroundTangent` `[3]` the background's.
    func forward(tangentGrid: [SIMD4<Float>]? = nil, hasDensityTangent: Bool = false, hasColorTangent: Bool = false,
                 backgroundTangent: [Float]? = nil) -> (Forward, Tangents?) {
        let R = rayCount, S = samplesPerRay, chunk = minRaysPerChunk
        func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
        var out = Forward(color: zeros(3 * R), opacity: zeros(R), depth: zeros(R), transFinal: zeros(R))
        let wantTangent = tangentGrid != nil
        var tangents = Tangents(color: zeros(wantTangent ? 3 * R : 0), opacity: zeros(wantTangent ? R : 0),
                                depth: zeros(wantTangent ? R : 0))
        let tangentValues = tangentGrid ?? []
        let bgTangent = backgroundTangent.map { SIMD4(0, $0[0], $0[1], $0[2]) }
        out.color.withUnsafeMutableBufferPointer { oc in out.opacity.withUnsafeMutableBufferPointer { oo in
        out.depth.withUnsafeMutableBufferPointer { od in out.transFinal.withUnsafeMutableBufferPointer { of in
        tangents.color.withUnsafeMutableBufferPointer { tc in tangents.opacity.withUnsafeMutableBufferPointer { to in
        tangents.depth.withUnsafeMutableBufferPointer { td in tangentValues.withUnsafeBufferPointer { tv in withPointers { grid, up, geo in
            nonisolated(unsafe) let oc = oc.baseAddress!, oo = oo.baseAddress!, od = od.baseAddress!, of = of.baseAddress!
            nonisolated(unsafe) let tc = tc.baseAddress, to = to.baseAddress, td = td.baseAddress
            nonisolated(unsafe) let tv = wantTangent ? tv.baseAddress : nil, grid = grid, up = up, geo = geo
            Parallel.forEach((R + chunk - 1) / chunk) { k in
                Samples.with(samples: S) { s in
                    for r in (k &* chunk)..<Swift.min(R, (k &+ 1) &* chunk) {
                        let ray = geo != nil ? march(r, into: s, grid: grid, offsets: up, geometry: geo, tangentGrid: tv)   // two inlined
                                              : march(r, into: s, grid: grid, offsets: up, geometry: nil, tangentGrid: tv) // copies
                        oc[3 &* r] = ray.color[1]; oc[3 &* r &+ 1] = ray.color[2]; oc[3 &* r &+ 2] = ray.color[3]
                        oo[r] = -Foundation.expm1(-ray.optical)
                        od[r] = ray.depth
                        of[r] = ray.trans
                        guard wantTangent else { continue }
                        // The compositor's JVP with a_i = δ·σ̇_i and the prefix A_i = Σ_{j<i} a_j (VolumeCompositing.swift).
                        var o = SIMD4<Float>(repeating: 0), prefix: Float = 0, depthDot: Float = 0
                        for i in 0..<ray.count {
                            let w = s.weight[i]
                            if hasDensityTangent {
                                let a = ray.delta * s.tangent[i][0]
                                let wDot = s.transNext[i] * a - w * prefix
                                o += wDot * s.color(i)
                                depthDot += wDot * s.t[i]
                                prefix += a
                            }
                            if hasColorTangent { o += w * s.tangent[i] }
                        }
                        if hasDensityTangent { o -= ray.trans * prefix * background }
                        if let bgTangent { o += ray.trans * bgTangent }
                        tc![3 &* r] = o[1]; tc![3 &* r &+ 1] = o[2]; tc![3 &* r &+ 2] = o[3]
                        to![r] = ray.trans * prefix
                        td![r] = depthDot
                    }
                }
            }
        }}}}}}}}}
        return (out, wantTangent ? tangents : nil)
    }
}
