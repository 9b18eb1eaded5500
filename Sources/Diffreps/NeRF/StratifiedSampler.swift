import TensorCore

/// Stratified sampling of rays inside a ``SceneBox``: the segment between box entry and exit
/// is cut into `S` equal bins and each bin gets one sample, jittered uniformly inside the bin
/// (training) or at its midpoint (deterministic rendering). Every sample stands for its whole
/// bin: `δ_i` is the bin width, so the deltas of a ray add up to its path length in the box.
///
/// ```swift
/// let sampler = StratifiedSampler(samplesPerRay: 64, box: SceneBox())
/// var rng = RandomGenerator(seed: 7)
/// let jittered = sampler.samples(along: rays, using: &rng)
/// let midpoints = sampler.samples(along: rays)
/// ```
public struct StratifiedSampler: Sendable {
    /// Samples per ray `S`.
    public var samplesPerRay: Int
    /// The box samples are drawn in.
    public var box: SceneBox

    public init(samplesPerRay: Int = 64, box: SceneBox = SceneBox()) {
        precondition(samplesPerRay > 0, "StratifiedSampler: samplesPerRay must be positive, got \(samplesPerRay)")
        self.samplesPerRay = samplesPerRay
        self.box = box
    }

    /// Bin midpoints (no randomness).
    public func samples(along rays: Rays) -> RaySamples {
        samples(along: rays, offsets: nil)
    }

    /// One sample uniformly jittered inside each bin; draws `R·S` uniforms from `rng`.
    public func samples(along rays: Rays, using rng: inout RandomGenerator) -> RaySamples {
        samples(along: rays, offsets: rng.uniformValues(rays.count * samplesPerRay))
    }

    /// `offsets[r·S + i]` in `[0, 1)` places sample `i` inside its bin (nil: 0.5, the midpoint).
    func samples(along rays: Rays, offsets: [Float]?) -> RaySamples {
        let R = rays.count, S = samplesPerRay
        var points = [Float](repeating: 0, count: R * S * 3)
        var ts = [Float](repeating: 0, count: R * S)
        var deltas = [Float](repeating: 0, count: R * S)
        let box = self.box
        let offsets = offsets ?? []
        let jittered = !offsets.isEmpty
        points.withUnsafeMutableBufferPointer { pp in ts.withUnsafeMutableBufferPointer { tp in
        deltas.withUnsafeMutableBufferPointer { dp in offsets.withUnsafeBufferPointer { up in
        rays.origins.data.withUnsafeBufferPointer { op in rays.directions.data.withUnsafeBufferPointer { rp in
            nonisolated(unsafe) let pp = pp.baseAddress!, tp = tp.baseAddress!, dp = dp.baseAddress!
            nonisolated(unsafe) let up = up.baseAddress, op = op.baseAddress!, rp = rp.baseAddress!
            Parallel.forEach(R, minChunk: 64) { r in
                let o = SIMD3(op[3 &* r], op[3 &* r &+ 1], op[3 &* r &+ 2])
                let d = SIMD3(rp[3 &* r], rp[3 &* r &+ 1], rp[3 &* r &+ 2])
                guard let (near, far) = box.intersect(origin: o, direction: d) else { return }
                let width = (far - near) / Float(S)
                for i in 0..<S {
                    let k = r &* S &+ i
                    let u = jittered ? up![k] : 0.5
                    let t = near + (Float(i) + u) * width
                    tp[k] = t
                    dp[k] = width
                    pp[3 &* k] = o.x + t * d.x
                    pp[3 &* k &+ 1] = o.y + t * d.y
                    pp[3 &* k &+ 2] = o.z + t * d.z
                }
            }
        }}}}}}
        return RaySamples(rayCount: R, samplesPerRay: S, points: Tensor([R * S, 3], data: points), ts: ts, deltas: deltas)
    }
}
