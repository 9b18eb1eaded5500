import Foundation
import Diffreps
import TensorCore

/// Renders ``ToyScene``s exactly by sphere tracing their signed distance functions.
///
/// Per pixel, `supersampling × supersampling` rays through the sub-pixel centres
/// `(j + (s + 0.5)/n, i + (t + 0.5)/n)` (``OrbitView`` pixel coordinates) are averaged
/// (box filter). A ray first clips to each primitive's bounding sphere: primitives whose
/// sphere it misses are dropped for that ray (they cannot be hit), and rays missing all
/// spheres are background. It then marches `t += min_k sdf_k(o + t·d)` until the distance
/// falls below `hitEpsilon` (a hit) or `t` leaves the last bounding sphere (a miss). At a
/// hit the normal is the central-difference gradient of the nearest primitive's SDF, and
/// the colour is ``ToyLighting``'s Lambertian term times the primitive's albedo.
///
/// ```swift
/// let renderer = ToyRenderer(supersampling: 3)
/// let img = renderer.render(scene, view: OrbitView(azimuth: 0.5), width: 32, height: 32)  // [3, 32, 32]
/// ```
public struct ToyRenderer: Sendable {
    /// Rays per pixel along each axis (3 → 9 samples per pixel).
    public var supersampling: Int
    /// Sphere-tracing iterations per ray before giving up.
    public var maxSteps: Int = 128
    /// Surface hit threshold on the SDF (world units).
    public var hitEpsilon: Float = 4e-4

    public init(supersampling: Int = 3) {
        precondition(supersampling >= 1, "supersampling must be at least 1")
        self.supersampling = supersampling
    }

    /// A `[3, height, width]` image in `[-1, 1]` of `scene` seen from `view`.
    public func render(_ scene: ToyScene, view: OrbitView, width: Int, height: Int) -> Tensor {
        renderWithCoverage(scene, view: view, width: width, height: height).image
    }

    /// The image (`[3, height, width]`, in `[-1, 1]`) and the coverage (`[height, width]`, the
    /// fraction of each pixel's rays that hit the scene, in `[0, 1]`).
    public func renderWithCoverage(_ scene: ToyScene, view: OrbitView, width: Int,
                                   height: Int) -> (image: Tensor, coverage: Tensor) {
        precondition(width > 0 && height > 0, "image size must be positive, got \(width)×\(height)")
        var rgb = [Float](repeating: 0, count: 3 * width * height)
        var cov = [Float](repeating: 0, count: width * height)
        rgb.withUnsafeMutableBufferPointer { r in
            cov.withUnsafeMutableBufferPointer { c in
                render(scene, view: view, width: width, height: height, into: r.baseAddress!, coverage: c.baseAddress!)
            }
        }
        return (Tensor([3, height, width], data: rgb), Tensor([height, width], data: cov))
    }

    /// The image (`[3, height, width]` in `[-1, 1]`), coverage (`[height, width]` in `[0, 1]`)
    /// and hit distance (`[height, width]`: mean distance from the camera along the rays of a
    /// pixel that hit the scene, 0 where none does) — what a NeRF's `display` gives, for real scenes.
    ///
    /// ```swift
    /// let r = ToyRenderer().renderLayers(scene, view: OrbitView(azimuth: 1), width: 32, height: 32)
    /// r.depth.shape   // [32, 32]; about 4 − 1 on the object for the default orbit
    /// ```
    public func renderLayers(_ scene: ToyScene, view: OrbitView, width: Int,
                             height: Int) -> (image: Tensor, coverage: Tensor, depth: Tensor) {
        precondition(width > 0 && height > 0, "image size must be positive, got \(width)×\(height)")
        var rgb = [Float](repeating: 0, count: 3 * width * height)
        var cov = [Float](repeating: 0, count: width * height)
        var dist = [Float](repeating: 0, count: width * height)
        rgb.withUnsafeMutableBufferPointer { r in
            cov.withUnsafeMutableBufferPointer { c in
                dist.withUnsafeMutableBufferPointer { d in
                    render(scene, view: view, width: width, height: height, into: r.baseAddress!,
                           coverage: c.baseAddress!, depth: d.baseAddress!)
                }
            }
        }
        return (Tensor([3, height, width], data: rgb), Tensor([height, width], data: cov), Tensor([height, width], data: dist))
    }

    /// Writes the `[3, height, width]` image in `[-1, 1]` to `out` (and coverage, if given).
    func render(_ scene: ToyScene, view: OrbitView, width: Int, height: Int,
                into out: UnsafeMutablePointer<Float>, coverage: UnsafeMutablePointer<Float>?,
                depth: UnsafeMutablePointer<Float>? = nil) {
        let prims = scene.primitives.map(TracedPrimitive.init)
        precondition(prims.count <= 32, "the toy renderer handles at most 32 primitives")
        let lights = scene.lighting.lights.map { (ToyVec($0.direction), $0.intensity) }
        let ambient = scene.lighting.ambient
        let bg = ToyVec(scene.background)
        let origin = ToyVec(view.position)
        let fwd = ToyVec(view.forward), right = ToyVec(view.right), up = ToyVec(view.up)
        let tanY = Foundation.tan(view.fovY / 2), tanX = tanY * Float(width) / Float(height)
        let sx = 2 * tanX / Float(width), sy = 2 * tanY / Float(height)   // pixel size on the tan plane
        // Every ray of a pixel lies within angle `alpha` of the pixel's centre ray (the
        // tangent-plane distance bounds the angle): the pixel's rays form a cone.
        let alpha = 0.5 * (sx * sx + sy * sy).squareRoot()
        // Per primitive: camera→centre vector, its length, and the largest perpendicular
        // distance from the centre to a pixel cone's axis at which the cone can touch the
        // bounding sphere: R + (|w| + R)·alpha.
        let cull = prims.map { p -> (w: ToyVec, dist: Float, reach2: Float) in
            let w = p.center - origin, dist = w.length
            let reach = p.bound + (dist + p.bound) * alpha
            return (w, dist, reach * reach)
        }
        let n = supersampling
        let inv = 1 / Float(n * n)
        let plane = width &* height
        prims.withUnsafeBufferPointer { pp in
            for i in 0..<height {
                for j in 0..<width {
                    let o = i &* width &+ j
                    let axis = (fwd + ((Float(j) + 0.5) * sx - tanX) * right + (tanY - (Float(i) + 0.5) * sy) * up).normalized
                    // 1. Primitives whose bounding sphere the pixel cone can touch.
                    var mask: UInt32 = 0
                    var tStart = Float.infinity, tEnd: Float = 0
                    for k in 0..<cull.count {
                        let tc = cull[k].w.dot(axis)
                        if cull[k].w.lengthSquared - tc * tc > cull[k].reach2 || tc < -pp[k].bound { continue }
                        mask |= 1 << UInt32(k)
                        tStart = Swift.min(tStart, Swift.max(cull[k].dist - pp[k].bound, 0))
                        tEnd = Swift.max(tEnd, cull[k].dist + pp[k].bound)
                    }
                    // 2. Cone-march the pixel: at axis point p(t) every sub-ray point o + s·d with
                    //    |s − t| ≤ sdf(p) − t·alpha lies in the empty ball, so all sub-rays are
                    //    free up to the final t and start there.
                    if mask != 0 {
                        var t = tStart
                        for _ in 0..<32 {
                            let step = sceneDistance(pp, mask, origin + t * axis) - t * alpha
                            if step < 0.005 { break }
                            t += step
                            if t > tEnd { mask = 0; break }
                        }
                        tStart = t
                    }
                    if mask == 0 {
                        out[o] = 2 * bg.x - 1
                        out[plane &+ o] = 2 * bg.y - 1
                        out[2 &* plane &+ o] = 2 * bg.z - 1
                        coverage?[o] = 0
                        depth?[o] = 0
                        continue
                    }
                    // 3. Trace the n×n sub-pixel rays.
                    var acc = ToyVec.zero
                    var hits = 0
                    var hitDistance: Float = 0
                    for a in 0..<n {
                        let v = tanY - (Float(i) + (Float(a) + 0.5) / Float(n)) * sy      // (1 − 2·py/H)·tan(fovY/2)
                        for b in 0..<n {
                            let u = (Float(j) + (Float(b) + 0.5) / Float(n)) * sx - tanX  // (2·px/W − 1)·tan·aspect
                            let d = (fwd + u * right + v * up).normalized
                            let (k, tt) = trace(pp, mask, origin, d, tStart)
                            if k < 0 { acc = acc + bg; continue }
                            hits += 1
                            hitDistance += tt
                            let nrm = pp[k].normal(origin + tt * d)
                            var shade = ambient
                            for (l, w) in lights { shade += w * Swift.max(0, nrm.dot(l)) }
                            acc = acc + pp[k].color * Swift.min(shade, 1)
                        }
                    }
                    out[o] = 2 * acc.x * inv - 1
                    out[plane &+ o] = 2 * acc.y * inv - 1
                    out[2 &* plane &+ o] = 2 * acc.z * inv - 1
                    coverage?[o] = Float(hits) * inv
                    depth?[o] = hits > 0 ? hitDistance / Float(hits) : 0
                }
            }
        }
    }

    /// Min of the SDFs of the primitives in `mask` at `p`.
    @inline(__always)
    func sceneDistance(_ pp: UnsafeBufferPointer<TracedPrimitive>, _ mask: UInt32, _ p: ToyVec) -> Float {
        var best = Float.infinity
        var m = mask
        while m != 0 {
            let k = m.trailingZeroBitCount
            m &= m &- 1
            best = Swift.min(best, pp[k].distance(p))
        }
        return best
    }

    /// Sphere-traces one ray against the primitives in `mask`, from `tStart` (the ray must be
    /// free of their surfaces before it); returns the index of the primitive hit (−1 for a
    /// miss) and `t`.
    @inline(__always)
    func trace(_ pp: UnsafeBufferPointer<TracedPrimitive>, _ mask: UInt32, _ o: ToyVec, _ d: ToyVec,
               _ tStart: Float) -> (Int, Float) {
        var active: UInt32 = 0
        var tNear = Float.infinity, tFar: Float = 0
        var m = mask
        while m != 0 {
            let k = m.trailingZeroBitCount
            m &= m &- 1
            let oc = o - pp[k].center
            let b = oc.dot(d)
            let disc = b * b - (oc.lengthSquared - pp[k].boundSquared)
            if disc <= 0 { continue }
            let s = disc.squareRoot()
            let t1 = -b + s
            if t1 <= tStart { continue }
            active |= 1 << UInt32(k)
            tNear = Swift.min(tNear, Swift.max(-b - s, tStart))
            tFar = Swift.max(tFar, t1)
        }
        if active == 0 { return (-1, 0) }
        var t = tNear
        for _ in 0..<maxSteps {
            let p = o + t * d
            var best = Float.infinity, hit = -1
            var m = active
            while m != 0 {
                let k = m.trailingZeroBitCount
                m &= m &- 1
                let dk = pp[k].distance(p)
                if dk < best { best = dk; hit = k }
            }
            if best < hitEpsilon { return (hit, t) }
            t += best
            if t > tFar { return (-1, 0) }
        }
        return (-1, 0)
    }
}

/// A primitive prepared for tracing: world→local rotation rows, squared bound.
struct TracedPrimitive {
    let shape: ToyShape
    let params: ToyVec
    let center: ToyVec
    /// Columns of the local→world rotation: local = (c0·q, c1·q, c2·q) for q = p − center.
    let c0: ToyVec, c1: ToyVec, c2: ToyVec
    let bound: Float, boundSquared: Float
    let color: ToyVec

    init(_ p: ToyPrimitive) {
        shape = p.shape
        params = ToyVec(p.parameters)
        center = ToyVec(p.center)
        c0 = ToyVec(p.rotation.columns.0); c1 = ToyVec(p.rotation.columns.1); c2 = ToyVec(p.rotation.columns.2)
        bound = p.boundingRadius
        boundSquared = bound * bound
        color = ToyVec(p.color)
    }

    /// Signed distance at world point `p` — exact near the primitive; far away (more than
    /// 0.25 outside its bounding sphere) the cheaper lower bound `|p − c| − bound`, which
    /// keeps sphere tracing safe.
    @inline(__always) func distance(_ p: ToyVec) -> Float {
        let q = p - center
        let r2 = q.lengthSquared
        let far = bound + 0.25
        if r2 > far * far { return r2.squareRoot() - bound }
        return shape.signedDistance(ToyVec(c0.dot(q), c1.dot(q), c2.dot(q)), params)
    }

    /// Unit outward normal: central differences of this primitive's exact SDF (step 1e-3).
    @inline(__always) func normal(_ p: ToyVec) -> ToyVec {
        let q = p - center
        let l = ToyVec(c0.dot(q), c1.dot(q), c2.dot(q))
        let h: Float = 1e-3
        let gx = shape.signedDistance(l + ToyVec(h, 0, 0), params) - shape.signedDistance(l - ToyVec(h, 0, 0), params)
        let gy = shape.signedDistance(l + ToyVec(0, h, 0), params) - shape.signedDistance(l - ToyVec(0, h, 0), params)
        let gz = shape.signedDistance(l + ToyVec(0, 0, h), params) - shape.signedDistance(l - ToyVec(0, 0, h), params)
        let g = ToyVec(gx, gy, gz)
        let len = g.length
        let gl = len > 0 ? g * (1 / len) : ToyVec(0, 1, 0)
        return c0 * gl.x + c1 * gl.y + c2 * gl.z                   // back to world
    }
}

