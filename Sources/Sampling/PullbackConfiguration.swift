import Diffusion
import Diffreps

extension PullbackSampler {
    /// What the diffrep's parameters hold during the run (docs/DESIGN.md §2, "the implicit constraint").
    public enum StateMode: String, Sendable, CaseIterable {
        /// The noisy state `x_σ` itself (exact on pixel grids and panoramas).
        case noisy
        /// The denoised estimate, which every diffrep can render; each step renders it, adds
        /// per-view noise `σ_i·ε_k`, denoises, and pulls back the *clean* part of the DDIM step,
        /// `y_k = D_k + keep·(x_k − D_k)`. For NeRFs, which cannot hold σ_max-sized noise.
        /// The noise is carried rather than redrawn as far as ``Configuration/noiseCorrelation``
        /// says: with `ρ = 1` (one noise image for every view and step) a one-view pixel grid
        /// follows exactly the DDIM sampler's trajectory, `x_σ = x + σ·ε`.
        case denoised
    }

    /// Settings of one run. The settings whose right value depends on the diffrep (state,
    /// solver, views per step, resampling, where the denoised state's noise comes from) are
    /// optional: `nil` takes the diffrep's own default (``PullbackDefaults``, docs/DESIGN.md §2
    /// "Defaults per diffrep"), so a NeRF sampled with `.init(sigmas:)` gets the denoised state,
    /// the Adam solve with its priors and resampling — the CLI's measured settings.
    ///
    /// ```swift
    /// let config = PullbackSampler.Configuration(sigmas: schedule.ddimSigmas(steps: 50), seed: 1, classLabel: 0)
    /// config.settings(for: nerf).solver        // .adam(steps: 20, learningRate: 0.2): the NeRF's default
    /// ```
    public struct Configuration: Sendable {
        /// Noise levels `σ_0 > σ_1 > … > σ_N ≥ 0` (the model's DDIM steps or Karras).
        public var sigmas: [Float]
        /// Views rendered and denoised together per step (`K`), drawn from the diffrep's view
        /// distribution (unless a ``ViewChooser`` is passed to ``PullbackSampler/sample(_:views:progress:)``).
        /// `nil`: the diffrep's default.
        public var viewsPerStep: Int?
        /// DDIM stochasticity in `[0, 1]`: 0 = deterministic PF-ODE, 1 ≈ DDPM ancestral.
        public var eta: Float = 0
        /// RePaint resampling: each level's step is taken `resample` times, re-noising by
        /// `σ_i² − σ_{i+1}²` in between (1 = no resampling). `nil`: the diffrep's default.
        public var resample: Int?
        /// How `δθ` is solved for (only ``LeastSquaresSolver/adam(steps:learningRate:)`` adds the
        /// diffrep's priors). `nil`: the diffrep's default.
        public var solver: LeastSquaresSolver?
        /// Seeds every random draw (views, noise); the layout is ``NoiseStreams``.
        public var seed: UInt64 = 0
        /// Class label for a conditional denoiser (nil = unconditional).
        public var classLabel: Int? = nil
        /// Whether the parameters hold the noisy state or the denoised estimate. `nil`: the
        /// diffrep's default.
        public var state: StateMode?
        /// `.denoised` state only: how much of the per-view noise is carried. Each view's noise is
        /// `ε_k = √ρ·s + √(1−ρ)·η_k`, with `s` one image drawn once per run (from the initial-noise
        /// stream, like DDIM's `ε`) and `η_k` fresh for every view and step. Every `ε_k` is white
        /// noise; `ρ` is its correlation across views and steps. `ρ = 1`: DDIM's carried noise,
        /// the same in every view, so all views make the same random choices (colour, layout);
        /// `ρ = 0`: independent noise everywhere (an SDS-like average over noise draws).
        /// `nil`: the diffrep's default.
        public var noiseCorrelation: Float?
        /// `.denoised` state only: how many carried images `s` there are; view `k` of a step
        /// carries image `k mod count`. 1: one image for every view. A multi-view denoiser (views
        /// in groups of four tiled into one image, `QuarterTurnTiledDenoiser`) takes 4, so each
        /// tile carries its own noise, as the model saw independent noise per tile in training,
        /// while every step still sees the same noise in each tile slot. `nil`: the diffrep's default.
        public var carriedNoiseImages: Int?
        /// `.denoised` state only: at levels `σ > carriedAboveSigma` every view takes its carried
        /// image alone (as with `ρ = 1`), below it the noise ``noiseCorrelation`` and
        /// ``viewConsistentNoise`` say — the high-noise choices (colour, size) from the carried
        /// noise, which every step shares, the shape from the rest. `nil` (the default): one rule at every level.
        public var carriedAboveSigma: Float? = nil
        /// `.denoised` state only: take each view's fresh part of the noise from the diffrep's
        /// ``Diffreps/Diffrep/viewConsistentNoise(_:seed:)`` (noise attached to the represented
        /// object, which turns with it from view to view), `ε_k = √ρ·s + √(1−ρ)·e_k` with `ρ` =
        /// ``noiseCorrelation``; with `ρ = 1` that is the carried image alone, which asks every
        /// view for the same picture. Diffreps without such noise ignore it. `nil`: the diffrep's default.
        public var viewConsistentNoise: Bool?
        /// With ``viewConsistentNoise``: replace each view's per-channel noise mean by the carried
        /// image's (one global draw for every view, the layout from the view-consistent noise),
        /// instead of mixing by ``noiseCorrelation``. Experimental.
        public var shareNoiseMean = false
        /// Camera-aware denoisers only: pass each view's camera at levels `σ ≤ cameraFromSigma`
        /// and the "no camera" condition above (nil: the camera at every level). At high noise the
        /// model makes the run's global random choices (colour, size); a view-free condition makes
        /// them the same in every view, where per-view cameras let each view choose its own
        /// (which the least-squares pull-back then averages into a dull compromise).
        public var cameraFromSigma: Float? = nil
        /// The level to start at: 0 for a fresh run; `s` to resume a run whose parameters were
        /// saved after `s` steps (the rest of the run is then the same as uninterrupted).
        public var startStep = 0

        /// A configuration; only the noise levels are required, and every setting left `nil` is
        /// the diffrep's own default.
        public init(sigmas: [Float], viewsPerStep: Int? = nil, eta: Float = 0, resample: Int? = nil,
                    solver: LeastSquaresSolver? = nil, seed: UInt64 = 0, classLabel: Int? = nil,
                    state: StateMode? = nil) {
            self.state = state
            self.sigmas = sigmas
            self.viewsPerStep = viewsPerStep
            self.eta = eta
            self.resample = resample
            self.solver = solver
            self.seed = seed
            self.classLabel = classLabel
        }

        /// The diffrep-dependent settings of a run on `diffrep`: this configuration's where it
        /// gives them, the diffrep's defaults (``PullbackDefaults``) where it leaves them `nil`.
        ///
        /// ```swift
        /// PullbackSampler.Configuration(sigmas: sigmas).settings(for: nerf).state   // .denoised
        /// ```
        public func settings<R: Diffrep>(for diffrep: R) -> DiffrepSettings {
            DiffrepSettings.defaults(for: diffrep).overridden(by: self)
        }

        /// Throws ``SamplingError/invalidConfiguration(_:)`` unless the settings make sense
        /// (the settings left to the diffrep are checked when a run resolves them).
        public func validate() throws {
            guard sigmas.count >= 2, sigmas.allSatisfy({ $0.isFinite }), sigmas[0] > 0,
                  zip(sigmas, sigmas.dropFirst()).allSatisfy({ $0 > $1 }), sigmas.last! >= 0 else {
                throw SamplingError.invalidConfiguration("sigmas must be finite, start positive, decrease strictly and end at ≥ 0 (got \(sigmas))")
            }
            if let t = cameraFromSigma, !(t >= 0 && t.isFinite) {
                throw SamplingError.invalidConfiguration("camera-from-sigma must be a finite σ ≥ 0, got \(t)")
            }
            if let t = carriedAboveSigma, !(t >= 0 && t.isFinite) {
                throw SamplingError.invalidConfiguration("carried-above-sigma must be a finite σ ≥ 0, got \(t)")
            }
            guard eta >= 0 && eta <= 1 else { throw SamplingError.invalidConfiguration("eta must be in [0, 1], got \(eta)") }
            try DiffrepSettings.general.overridden(by: self).validate()
            guard startStep >= 0 && startStep < sigmas.count - 1 else {
                throw SamplingError.invalidConfiguration("start step \(startStep) is outside 0..<\(sigmas.count - 1)")
            }
        }
    }
}
