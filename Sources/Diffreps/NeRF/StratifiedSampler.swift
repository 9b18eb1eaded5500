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
        for r in 0..<R {
            let o = rays.origin(r), d = rays.direction(r)
            guard let (near, far) = box.intersect(origin: o, direction: d) else { continue }
            let width = (far - near) / Float(S)
            for i in 0..<S {
                let k = r * S + i
                let u = offsets?[k] ?? 0.5
                let t = near + (Float(i) + u) * width
                let p = o + t * d
                ts[k] = t
                deltas[k] = width
                points[3 * k] = p.x; points[3 * k + 1] = p.y; points[3 * k + 2] = p.z
            }
        }
        return RaySamples(rayCount: R, samplesPerRay: S, points: Tensor([R * S, 3], data: points), ts: ts, deltas: deltas)
    }
}
