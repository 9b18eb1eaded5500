import Foundation

/// The discrete noise schedule of a DDPM-trained model (diffusers' `DDPMScheduler` /
/// `DDIMScheduler`), expressed in the variance-exploding terms of docs/DESIGN.md §1.
///
/// The betas `β_t` (t = 0…T−1) give `ᾱ_t = Π_{s≤t}(1 − β_s)`, and each discrete step is the
/// noise level `σ_t = √((1−ᾱ_t)/ᾱ_t)` of `x_σ = x₀ + σ·ε` (the VP input `x_t = √ᾱ_t·x_σ`).
/// Between the discrete steps, `σ(t)` is interpolated linearly in `log σ` (as k-diffusion does),
/// so ``timestep(forSigma:)`` and ``sigma(forTimestep:)`` are exact inverses on `[σ_0, σ_{T−1}]`.
///
/// ```swift
/// let schedule = DDPMSchedule()                       // google/ddpm-cifar10-32's schedule
/// let sigmas = schedule.ddimSigmas(steps: 50)         // 50 levels (σ_980 … σ_0), then 0
/// let t = schedule.timestep(forSigma: sigmas[0])      // 980
/// ```
public struct DDPMSchedule: Sendable, Equatable {
    /// How the betas are laid out over the training steps (diffusers' `beta_schedule`).
    public enum BetaSchedule: String, Sendable, CaseIterable {
        /// `β_t` linear from `betaStart` to `betaEnd`.
        case linear = "linear"
        /// `√β_t` linear from `√betaStart` to `√betaEnd` (latent diffusion).
        case scaledLinear = "scaled_linear"
        /// The cosine schedule of Nichol & Dhariwal 2021, `β_t ≤ 0.999` (the betas' range is ignored).
        case squaredCosCapV2 = "squaredcos_cap_v2"
    }

    /// How a few inference timesteps are picked from the training steps (diffusers'
    /// `timestep_spacing`, table 2 of Lin et al. 2023, arXiv 2305.08891).
    public enum TimestepSpacing: String, Sendable, CaseIterable {
        /// `t_i = i·⌊T/n⌋ + steps_offset`, largest first (diffusers' default).
        case leading = "leading"
        /// `t_i = round(T − i·T/n) − 1`.
        case trailing = "trailing"
        /// `round(linspace(0, T−1, n))`, largest first.
        case linspace = "linspace"
    }

    /// Number of discrete training steps `T`.
    public let numTrainTimesteps: Int
    /// First beta (linear and scaled-linear schedules).
    public let betaStart: Double
    /// Last beta (linear and scaled-linear schedules).
    public let betaEnd: Double
    /// The beta layout.
    public let betaSchedule: BetaSchedule
    /// What the model predicts.
    public let predictionType: PredictionType
    /// Added to every "leading" inference timestep (diffusers' `steps_offset`).
    public let stepsOffset: Int
    /// How inference timesteps are spaced.
    public let timestepSpacing: TimestepSpacing

    /// `ᾱ_t` for `t = 0…T−1` (computed in Double).
    public let alphasCumprod: [Double]
    /// `σ_t = √((1−ᾱ_t)/ᾱ_t)` for `t = 0…T−1`, increasing.
    public let sigmas: [Float]
    /// `log σ_t` in Double (the interpolation grid).
    let logSigmas: [Double]

    /// A schedule from its parameters (defaults: diffusers' `DDPMScheduler()` defaults).
    ///
    /// ```swift
    /// let sd = DDPMSchedule(betaStart: 0.00085, betaEnd: 0.012, betaSchedule: .scaledLinear, stepsOffset: 1)
    /// ```
    public init(numTrainTimesteps: Int = 1000, betaStart: Double = 0.0001, betaEnd: Double = 0.02,
                betaSchedule: BetaSchedule = .linear, predictionType: PredictionType = .epsilon,
                stepsOffset: Int = 0, timestepSpacing: TimestepSpacing = .leading) {
        precondition(numTrainTimesteps >= 2, "a DDPM schedule needs at least 2 training steps, got \(numTrainTimesteps)")
        precondition(stepsOffset >= 0, "steps_offset must be non-negative, got \(stepsOffset)")
        self.numTrainTimesteps = numTrainTimesteps
        self.betaStart = betaStart
        self.betaEnd = betaEnd
        self.betaSchedule = betaSchedule
        self.predictionType = predictionType
        self.stepsOffset = stepsOffset
        self.timestepSpacing = timestepSpacing

        let betas = DDPMSchedule.betas(betaSchedule, count: numTrainTimesteps, start: betaStart, end: betaEnd)
        precondition(betas.allSatisfy { $0 > 0 && $0 < 1 }, "betas must lie in (0, 1); check beta_start/beta_end")
        var acc = 1.0
        alphasCumprod = betas.map { b in acc *= 1 - b; return acc }
        logSigmas = alphasCumprod.map { a in 0.5 * Foundation.log((1 - a) / a) }
        sigmas = logSigmas.map { Float(Foundation.exp($0)) }
    }

    /// `β_t` for `t = 0…count−1`, as diffusers lays them out.
    static func betas(_ schedule: BetaSchedule, count n: Int, start: Double, end: Double) -> [Double] {
        func lerp(_ a: Double, _ b: Double, _ i: Int) -> Double { a + (b - a) * Double(i) / Double(n - 1) }
        switch schedule {
        case .linear:
            return (0..<n).map { lerp(start, end, $0) }
        case .scaledLinear:
            return (0..<n).map { let r = lerp(start.squareRoot(), end.squareRoot(), $0); return r * r }
        case .squaredCosCapV2:
            // diffusers' betas_for_alpha_bar(cosine): ᾱ(t) = cos²((t + 0.008)/1.008 · π/2).
            func alphaBar(_ t: Double) -> Double {
                let c = Foundation.cos((t + 0.008) / 1.008 * Double.pi / 2)
                return c * c
            }
            return (0..<n).map { i in
                Swift.min(1 - alphaBar(Double(i + 1) / Double(n)) / alphaBar(Double(i) / Double(n)), 0.999)
            }
        }
    }

    /// The smallest discrete noise level `σ_0`.
    public var sigmaMin: Float { sigmas[0] }
    /// The largest discrete noise level `σ_{T−1}`.
    public var sigmaMax: Float { sigmas[numTrainTimesteps - 1] }

    // MARK: - σ ↔ t

    /// The noise level at a (possibly fractional) timestep, interpolated linearly in `log σ`;
    /// `t` is clamped to `[0, T−1]`.
    ///
    /// ```swift
    /// DDPMSchedule().sigma(forTimestep: 999)    // σ_max ≈ 157.4
    /// ```
    public func sigma(forTimestep t: Float) -> Float {
        let tc = Swift.min(Swift.max(Double(t), 0), Double(numTrainTimesteps - 1))
        let lo = Swift.min(Int(tc.rounded(.down)), numTrainTimesteps - 2)
        let w = tc - Double(lo)
        return Float(Foundation.exp((1 - w) * logSigmas[lo] + w * logSigmas[lo + 1]))
    }

    /// The fractional timestep whose noise level is `sigma`: the inverse of
    /// ``sigma(forTimestep:)``, linear in `log σ` between discrete steps and clamped to
    /// `[0, T−1]` outside `[σ_0, σ_{T−1}]` (so `σ = 0` gives `0`). A discrete level `sigmas[t]`
    /// gives exactly `t`.
    ///
    /// ```swift
    /// let s = DDPMSchedule()
    /// s.timestep(forSigma: s.sigmas[500])   // 500
    /// ```
    public func timestep(forSigma sigma: Float) -> Float {
        guard sigma > sigmas[0] else { return 0 }
        let l = Foundation.log(Double(sigma))
        let last = numTrainTimesteps - 1
        if l >= logSigmas[last] { return Float(last) }
        // the largest i with logSigmas[i] ≤ l (binary search; logSigmas increases)
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if logSigmas[mid] <= l { lo = mid } else { hi = mid }
        }
        // a level on the grid (as Float) gives its integer timestep exactly, as diffusers' DDIM feeds it
        if sigma == sigmas[lo] { return Float(lo) }
        if sigma == sigmas[lo + 1] { return Float(lo + 1) }
        let w = (l - logSigmas[lo]) / (logSigmas[lo + 1] - logSigmas[lo])
        return Float(Double(lo) + Swift.min(Swift.max(w, 0), 1))
    }

    // MARK: - Inference schedules

    /// The `steps` discrete timesteps diffusers' `DDIMScheduler.set_timesteps(steps)` picks
    /// with this schedule's ``timestepSpacing`` and ``stepsOffset``, largest first.
    /// A timestep past `T−1` (leading spacing with an offset and `steps = T`) is clamped to `T−1`.
    ///
    /// ```swift
    /// DDPMSchedule().ddimTimesteps(steps: 10)   // [900, 800, …, 100, 0]
    /// ```
    public func ddimTimesteps(steps: Int) -> [Int] {
        let n = numTrainTimesteps
        precondition(steps >= 1 && steps <= n, "steps must be in 1…\(n) (the training steps), got \(steps)")
        var ts: [Int]
        switch timestepSpacing {
        case .leading:
            let ratio = n / steps
            ts = (0..<steps).reversed().map { $0 * ratio + stepsOffset }
        case .trailing:
            // np.round(np.arange(T, 0, -T/steps)) − 1 (round half to even, like NumPy)
            let ratio = Double(n) / Double(steps)
            ts = []
            var v = Double(n)
            var i = 0
            while v > 0 {
                ts.append(Int(v.rounded(.toNearestOrEven)) - 1)
                i += 1
                v = Double(n) - Double(i) * ratio
            }
        case .linspace:
            if steps == 1 {
                ts = [0]
            } else {
                let step = Double(n - 1) / Double(steps - 1)
                ts = (0..<steps).map { i in i == steps - 1 ? n - 1 : Int((Double(i) * step).rounded(.toNearestOrEven)) }
                ts.reverse()
            }
        }
        return ts.map { Swift.min(Swift.max($0, 0), n - 1) }
    }

    /// The noise levels `σ_t` of ``ddimTimesteps(steps:)``, with `0` appended: DDIM's last step
    /// lands on the clean sample (diffusers' `set_alpha_to_one = True`).
    ///
    /// ```swift
    /// let sigmas = DDPMSchedule().ddimSigmas(steps: 50)   // 51 values, decreasing, last 0
    /// ```
    public func ddimSigmas(steps: Int) -> [Float] {
        ddimTimesteps(steps: steps).map { sigmas[$0] } + [0]
    }

    /// Karras et al. (ρ = 7) noise levels between this model's extremes (or the given ones),
    /// with `0` appended. See ``KarrasSchedule``.
    ///
    /// ```swift
    /// let sigmas = DDPMSchedule().karrasSigmas(steps: 30)   // σ_max … σ_min, then 0
    /// ```
    public func karrasSigmas(steps: Int, sigmaMin: Float? = nil, sigmaMax: Float? = nil, rho: Float = 7) -> [Float] {
        KarrasSchedule.sigmas(steps: steps, sigmaMin: sigmaMin ?? self.sigmaMin,
                              sigmaMax: sigmaMax ?? self.sigmaMax, rho: rho)
    }
}
