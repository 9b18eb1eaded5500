import Foundation
import TensorCore
import Diffusion
import Diffreps

/// The paper's method (Savani, Finzi & Kolter 2024; docs/DESIGN.md §2 "Sampling"): integrate the
/// reverse-time diffusion process *in the diffrep's parameters* by pulling each image-space
/// DDIM step back through the render's Jacobian,
/// `δθ = argmin_δ Σ_k ‖J_k δ − (y_k − x_k)‖²`, i.e. `δθ = (Σ JᵀJ)⁻¹ Σ Jᵀ(y − x)`,
/// with RePaint-style resampling to keep the renders consistent (the implicit constraint).
///
/// On a ``Diffreps/PixelImage`` it *is* the DDIM sampler — the same seed gives the same image as
/// ``Diffusion/DDIMSampler`` with ``Diffusion/SamplerConfig`` (see ``NoiseStreams`` for the
/// shared noise layout); on a pixel-aligned ``Diffreps/PanoramaGrid`` each step is the average
/// of the overlapping window updates (MultiDiffusion).
///
/// The settings a ``Configuration`` leaves `nil` are the diffrep's own (``PullbackDefaults``):
/// a NeRF samples in the denoised state with the Adam solve, which adds its priors.
///
/// ```swift
/// let sigmas = schedule.ddimSigmas(steps: 50)
/// let sampler = PullbackSampler(denoiser: denoiser, configuration: .init(sigmas: sigmas, seed: 7))
/// let pano = PanoramaGrid(channels: 3, height: 32, width: 256, windowWidth: 32)
/// let report = try sampler.sample(pano) { p in print(p.step, p.remaining); return true }
/// ```
public struct PullbackSampler: DiffrepSampler {
    public let denoiser: any Denoiser
    public let configuration: Configuration

    public init(denoiser: any Denoiser, configuration: Configuration) {
        self.denoiser = denoiser
        self.configuration = configuration
    }

    /// Samples `diffrep` in place (its parameters end as the sample) and reports timings; the
    /// views come from `chooseViews` (nil: the diffrep's own distribution, see ``DiffrepSampler``).
    ///
    /// The run starts from the diffrep's current parameters plus noise of level `σ_0` (a fresh
    /// diffrep is zero, so this is pure noise; a diffrep that already holds content and a lower
    /// `σ_0` give an SDEdit-style variation). The loop (docs/DESIGN.md §2): noise at `σ_0`, then
    /// per level `resample` pulled-back DDIM steps with RePaint re-noising in between. Where the
    /// noise lives is the state's business (``StateMode``): in the parameters (noisy) or added
    /// to each view's render (denoised), so the same loop serves both.
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, views chooseViews: ViewChooser<R.View>?,
                                   progress: ProgressHandler?) throws -> SamplingReport {
        let c = configuration
        try c.validate()
        let streams = NoiseStreams(seed: c.seed)
        let run = try PullbackRun(self, diffrep: diffrep, carried: carriedNoise(for: diffrep))
        var viewStream = streams.views(level: nil)
        func drawViews(at sigma: Float) throws -> [R.View] {
            try Sampling.drawViews(diffrep, chooser: chooseViews, count: run.settings.viewsPerStep, sigma: sigma, stream: &viewStream)
        }
        let steps = c.sigmas.count - 1

        // The state at σ_0: θ + σ_0·ε (a resumed run already holds it).
        if c.startStep == 0 {
            var initialNoise = streams.initial
            try run.addNoise(std: c.sigmas[0], views: { try drawViews(at: c.sigmas[0]) }, noise: &initialNoise)
        }
        for i in c.startStep..<steps {
            let (sigma, next) = (c.sigmas[i], c.sigmas[i + 1])
            var levelNoise = streams.level(i)
            viewStream = streams.views(level: i)
            for u in 0..<run.settings.resample {
                // One DDIM step σ_i → σ_{i+1} on K fresh views, pulled back to the parameters.
                try run.step(views: drawViews(at: sigma), from: sigma, to: next, noise: &levelNoise, index: i)
                // RePaint: back to σ_i with fresh noise of variance σ_i² − σ_{i+1}², and the step again.
                if u < run.settings.resample - 1 {
                    try run.addNoise(std: (sigma * sigma - next * next).squareRoot(), views: { try drawViews(at: sigma) }, noise: &levelNoise)
                }
            }
            if let progress, !progress(run.progress(step: i + 1, of: steps, sigma: next)) {
                throw SamplingError.cancelled(afterStep: i + 1)
            }
        }
        return run.finish()
    }

    /// One pullback step `σ → σ'` on the given views, for custom loops: renders `x_k`, denoises
    /// `D_k = D(x_k; σ)` (in the denoised state `D_k = D(x_k + σ·ε_k; σ)`, with `carried` the
    /// run's carried noise, see ``carriedNoise(for:)``), proposes the DDIM targets
    /// `y_k = D_k + keep·(x_k − D_k)`, moves `θ += argmin_δ Σ_k ‖J_k δ − (y_k − x_k)‖²`, and in the
    /// noisy state for `η > 0` adds the DDIM step's fresh noise in parameter space. Fresh noise
    /// is drawn from `noise`; `index` is the step number reported in errors. A loop of these
    /// steps over the levels, with ``carriedNoise(for:)``, is ``sample(_:views:progress:)``
    /// without resampling.
    ///
    /// ```swift
    /// var rng = RandomGenerator(seed: 1)
    /// try sampler.step(pano, views: [0, 16, 32], sigma: 2, nextSigma: 1.5, noise: &rng)
    /// let carried = sampler.carriedNoise(for: nerf)           // denoised state: s, drawn once per run
    /// try sampler.step(nerf, views: views, sigma: 2, nextSigma: 1.5, noise: &rng, carried: carried)
    /// ```
    @discardableResult
    public func step<R: Diffrep>(_ diffrep: R, views: [R.View], sigma: Float, nextSigma: Float,
                                 noise: inout RandomGenerator, carried: CarriedNoise? = nil, index: Int = 0) throws -> SolveStats {
        guard sigma > 0, sigma.isFinite, nextSigma >= 0, nextSigma < sigma, !views.isEmpty else {
            throw SamplingError.invalidConfiguration("a step needs σ > σ' ≥ 0 and at least one view (got \(sigma) → \(nextSigma))")
        }
        return try PullbackRun(self, diffrep: diffrep, carried: carried)
            .step(views: views, from: sigma, to: nextSigma, noise: &noise, index: index)
    }

    /// The carried noise `s` a run on `diffrep` draws (from the seed's initial-noise stream, as
    /// DDIM draws its `ε`): `nil` in the noisy state, and in the denoised state when nothing is
    /// carried (`ρ = 0` and no ``Configuration/carriedAboveSigma``).
    ///
    /// ```swift
    /// let s = PullbackSampler(denoiser: d, configuration: .init(sigmas: sigmas, seed: 7)).carriedNoise(for: nerf)
    /// s?.count      // 1 (4 for a NeRF whose views come in quarter turns)
    /// ```
    public func carriedNoise<R: Diffrep>(for diffrep: R) -> CarriedNoise? {
        let s = configuration.settings(for: diffrep)
        guard s.state == .denoised, s.noiseCorrelation > 0 || configuration.carriedAboveSigma != nil else { return nil }
        var initialNoise = NoiseStreams(seed: configuration.seed).initial
        return CarriedNoise(count: s.carriedNoiseImages, shape: diffrep.renderShape, using: &initialNoise)
    }
}
