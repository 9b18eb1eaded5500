import TensorCore

/// Where a sampler run draws its randomness from, so that the same seed gives the same sample.
///
/// The noise layout is ``Diffusion/SamplerConfig``'s: stream 0 of `RandomGenerator(seed:)` holds
/// the initial `ε` (scaled by `σ_0`), stream `i + 1` the fresh noise of level `i`. On a
/// ``Diffreps/PixelImage`` the pullback sampler therefore draws exactly the numbers that
/// ``Diffusion/DDIMSampler`` draws for the same seed. Within level `i`'s stream the draws come in
/// the order they are used: the stochastic DDIM step's noise, then the RePaint re-noising, once per
/// resample. View choices have streams of their own (one per level), so choosing views never shifts the noise.
///
/// ```swift
/// let streams = NoiseStreams(seed: 7)
/// var initial = streams.initial          // same numbers as SamplerConfig(…, seed: 7).initialNoise
/// var level3 = streams.level(3)          // same numbers as SamplerConfig(…, seed: 7).stepNoise(step: 3, …)
/// ```
struct NoiseStreams {
    let root: RandomGenerator

    init(seed: UInt64) { root = RandomGenerator(seed: seed) }

    /// The initial noise `ε` of the state at `σ_0` (stream 0).
    var initial: RandomGenerator { root.fork(0) }

    /// Level `i`'s fresh noise: the DDIM step noise first, then the re-noising (stream `i + 1`).
    func level(_ i: Int) -> RandomGenerator { root.fork(UInt64(i) + 1) }

    /// The view draws before the first level (`level == nil`) and of level `i`, counted down from
    /// the last stream number (which no noise level reaches), so a run resumed at level `i` draws
    /// the same views as an uninterrupted one.
    func views(level: Int?) -> RandomGenerator { root.fork(.max - UInt64((level ?? -1) + 1)) }
}
