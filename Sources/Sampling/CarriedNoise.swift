import TensorCore

/// The denoised state's carried noise `s` (docs/DESIGN.md §2): `count` unit-normal images of a
/// diffrep's render shape, drawn once per run; view `k` of every step carries image `k mod count`
/// (scaled by `√ρ` in its noise `ε_k = √ρ·s_k + √(1−ρ)·η_k`). What
/// ``PullbackSampler/carriedNoise(for:)`` draws and ``PullbackSampler/step(_:views:sigma:nextSigma:noise:carried:index:)`` takes.
///
/// ```swift
/// var rng = RandomGenerator(seed: 3)
/// let s = CarriedNoise(count: 4, shape: [3, 32, 32], using: &rng)   // one image per tile slot
/// s.values.count                                                     // 4 · 3 · 32 · 32
/// ```
public struct CarriedNoise: Sendable, Equatable {
    /// The images one after another, each `[C, H, W]`: `count · C·H·W` values.
    public let values: [Float]
    /// How many images.
    public let count: Int

    /// Given images: `values` holds `count` images of equal size.
    public init(values: [Float], count: Int) {
        precondition(count >= 1 && values.count % count == 0, "\(values.count) values do not make \(count) equal images")
        self.values = values
        self.count = count
    }

    /// `count` images of `shape` (`[C, H, W]`) drawn from `rng`.
    public init(count: Int, shape: [Int], using rng: inout RandomGenerator) {
        self.init(values: rng.normalValues(count * shape.reduce(1, *)), count: count)
    }

    /// Where view `k`'s image starts in ``values``, for images of `perImage` values.
    func offset(view k: Int, perImage: Int) -> Int { (k % count) * perImage }
}
