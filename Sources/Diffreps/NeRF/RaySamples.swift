import TensorCore

/// Sample points along a batch of rays, `S` per ray, ready for a field and the compositor.
///
/// Sample `i` of ray `r` is entry `r·S + i` of every array. Rays that miss the scene box have
/// all deltas 0 (they show the background) and their points at the box centre.
///
/// ```swift
/// let samples = StratifiedSampler(samplesPerRay: 64).samples(along: rays)
/// samples.points.shape     // [R·64, 3]
/// ```
public struct RaySamples: Sendable {
    /// Number of rays `R`.
    public let rayCount: Int
    /// Samples per ray `S`.
    public let samplesPerRay: Int
    /// World positions `[R·S, 3]` (constants).
    public let points: Tensor
    /// Distance of each sample from its ray's origin, `[R·S]`.
    public let ts: [Float]
    /// Length of the interval each sample stands for, `[R·S]` (0 for rays that miss the box).
    public let deltas: [Float]

    public init(rayCount: Int, samplesPerRay: Int, points: Tensor, ts: [Float], deltas: [Float]) {
        let n = rayCount * samplesPerRay
        precondition(points.shape == [n, 3], "RaySamples: points must be [R·S, 3] = [\(n), 3], got \(points.shape)")
        precondition(ts.count == n && deltas.count == n, "RaySamples: ts and deltas must hold R·S = \(n) values")
        self.rayCount = rayCount
        self.samplesPerRay = samplesPerRay
        self.points = points
        self.ts = ts
        self.deltas = deltas
    }
}
