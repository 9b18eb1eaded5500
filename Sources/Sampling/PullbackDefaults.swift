import Diffusion
import Diffreps

extension PullbackSampler {
    /// The settings whose right value depends on the diffrep (docs/DESIGN.md §2 "Defaults per
    /// diffrep"): what a diffrep asks for through ``PullbackDefaults``, and what a run uses once
    /// the ``Configuration``'s own values are laid over it (``Configuration/settings(for:)``).
    /// The members are the ``Configuration`` members of the same names.
    ///
    /// ```swift
    /// var s = PullbackSampler.DiffrepSettings.general     // noisy state, CG, 4 views, no resampling
    /// s.state = .denoised
    /// ```
    public struct DiffrepSettings: Sendable, Equatable {
        /// What the parameters hold between steps.
        public var state = StateMode.noisy
        /// How `δθ` is solved for.
        public var solver = LeastSquaresSolver.default
        /// Views per step.
        public var viewsPerStep = 4
        /// Pullback steps per level (RePaint resampling; 1 = none).
        public var resample = 1
        /// Denoised state: the correlation `ρ` of the per-view noise across views and steps.
        public var noiseCorrelation: Float = 1
        /// Denoised state: how many carried noise images (view `k` carries image `k mod count`).
        public var carriedNoiseImages = 1
        /// Denoised state: the fresh part of the noise from the diffrep's view-consistent noise.
        public var viewConsistentNoise = false

        /// Settings for every member's default.
        public init() {}

        /// A diffrep without defaults of its own: the noisy state, conjugate gradients, four views,
        /// no resampling — exact on pixel grids (DDIM) and pixel panoramas (MultiDiffusion).
        public static let general = DiffrepSettings()

        /// `diffrep`'s own settings (``PullbackDefaults``), or ``general`` for a diffrep without any.
        ///
        /// ```swift
        /// PullbackSampler.DiffrepSettings.defaults(for: nerf).solver      // .adam(steps: 20, learningRate: 0.2)
        /// ```
        public static func defaults<R: Diffrep>(for diffrep: R) -> DiffrepSettings {
            (diffrep as? any PullbackDefaults)?.pullbackDefaults ?? .general
        }

        /// These settings with every member `configuration` gives replaced by its value.
        func overridden(by configuration: Configuration) -> DiffrepSettings {
            var s = self
            if let v = configuration.viewsPerStep { s.viewsPerStep = v }
            if let v = configuration.resample { s.resample = v }
            if let v = configuration.solver { s.solver = v }
            if let v = configuration.state { s.state = v }
            if let v = configuration.noiseCorrelation { s.noiseCorrelation = v }
            if let v = configuration.carriedNoiseImages { s.carriedNoiseImages = v }
            if let v = configuration.viewConsistentNoise { s.viewConsistentNoise = v }
            return s
        }

        /// Throws ``SamplingError/invalidConfiguration(_:)`` unless the settings make sense.
        func validate() throws {
            guard viewsPerStep >= 1 else { throw SamplingError.invalidConfiguration("views per step must be ≥ 1") }
            guard resample >= 1 else { throw SamplingError.invalidConfiguration("resample must be ≥ 1") }
            guard carriedNoiseImages >= 1 else { throw SamplingError.invalidConfiguration("carried noise images must be ≥ 1, got \(carriedNoiseImages)") }
            guard noiseCorrelation >= 0 && noiseCorrelation <= 1 else {
                throw SamplingError.invalidConfiguration("noise correlation must be in [0, 1], got \(noiseCorrelation)")
            }
            try solver.validate()
        }
    }
}

/// A diffrep that brings its own pullback settings: a run takes them for every setting its
/// ``PullbackSampler/Configuration`` leaves `nil` (docs/DESIGN.md §2 "Defaults per diffrep").
/// The package's diffreps conform with the settings the CLI measured; a diffrep that does not
/// conform gets ``PullbackSampler/DiffrepSettings/general``.
///
/// ```swift
/// extension Checkerboard: PullbackDefaults {
///     var pullbackDefaults: PullbackSampler.DiffrepSettings {
///         var s = PullbackSampler.DiffrepSettings.general
///         s.viewsPerStep = 1          // every view is the whole picture
///         return s
///     }
/// }
/// ```
public protocol PullbackDefaults: Diffrep {
    /// The settings this diffrep samples best with.
    var pullbackDefaults: PullbackSampler.DiffrepSettings { get }
}
