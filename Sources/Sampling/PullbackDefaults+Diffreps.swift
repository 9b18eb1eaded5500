import Diffusion
import Diffreps

// The package's diffreps sample with the settings `diffrep image`, `panorama` and `nerf` use,
// measured in docs/DESIGN.md §2 and the README; a Configuration's own values override them.

extension PixelImage: PullbackDefaults {
    /// The noisy state with conjugate gradients (DDIM exactly), one view: every view is the whole image.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings { .general.withViews(1) }
}

extension LatentImage: PullbackDefaults {
    /// As ``Diffreps/PixelImage``: the noisy state with conjugate gradients (DDIM in latent space exactly), one view.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings { .general.withViews(1) }
}

extension FourierFieldImage: PullbackDefaults {
    /// As ``Diffreps/SirenImage``: the denoised state with one carried noise image, conjugate
    /// gradients, one view. A field cannot hold σ_max-sized white noise: in the noisy state it
    /// diverges to saturated noise (docs/DESIGN.md §2, "Fields sample in the denoised state").
    public var pullbackDefaults: PullbackSampler.DiffrepSettings {
        var s = PullbackSampler.DiffrepSettings.general.withViews(1)
        s.state = .denoised
        return s
    }
}

extension SirenImage: PullbackDefaults {
    /// The denoised state with one carried noise image (a SIREN cannot hold σ_max-sized noise;
    /// `ρ = 1`, DDIM on a grid), conjugate gradients, one view.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings {
        var s = PullbackSampler.DiffrepSettings.general.withViews(1)
        s.state = .denoised
        return s
    }
}

extension PanoramaGrid: PullbackDefaults {
    /// The noisy state with conjugate gradients (MultiDiffusion exactly); one view asks for the
    /// fewest windows that cover the panorama.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings { .general.withViews(1) }
}

extension LatentPanorama: PullbackDefaults {
    /// As ``Diffreps/PanoramaGrid``: the noisy state with conjugate gradients (MultiDiffusion in
    /// latent space exactly), the fewest windows that cover the strip.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings { .general.withViews(1) }
}

extension PanoramaField: PullbackDefaults {
    /// The denoised state with the panorama's own noise (``Diffreps/PanoramaField/viewConsistentNoise(_:seed:)``,
    /// `ρ = 0`: overlapping windows share their noise, as a pixel panorama's do), conjugate
    /// gradients, the fewest windows that cover the panorama.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings {
        var s = PullbackSampler.DiffrepSettings.general.withViews(1)
        s.state = .denoised
        s.noiseCorrelation = 0
        s.viewConsistentNoise = true
        return s
    }
}

extension NeRFDiffrep: PullbackDefaults {
    /// `diffrep nerf`'s measured settings (README, "NeRFs and the implicit constraint"): the
    /// denoised state, the Adam solve (which adds ``Diffreps/NeRFDiffrep/regularizer()``:
    /// smoothness and empty space), RePaint resampling 2. Single views: six per step, one carried
    /// noise image (`ρ = 1`). Views in quarter turns for a multi-view model: four per step (one
    /// quarter-turn group; two groups gave the same NeRFs in twice the time, docs/DESIGN.md "One
    /// group per step") and the NeRF's own noise with `ρ = 0` — one noise image per azimuth of
    /// ``Diffreps/NeRFDiffrep/azimuthSteps`` (8), fixed for the run.
    public var pullbackDefaults: PullbackSampler.DiffrepSettings {
        Self.pullbackDefaults(viewsInQuarterTurns: viewsInQuarterTurns)
    }

    /// ``pullbackDefaults`` of a NeRF whose ``Diffreps/NeRFDiffrep/viewsInQuarterTurns`` is
    /// `viewsInQuarterTurns` (for a caller that reports them before it builds the NeRF).
    ///
    /// ```swift
    /// NeRFDiffrep.pullbackDefaults(viewsInQuarterTurns: true).viewsPerStep    // 4
    /// ```
    public static func pullbackDefaults(viewsInQuarterTurns: Bool) -> PullbackSampler.DiffrepSettings {
        var s = PullbackSampler.DiffrepSettings.general
        s.state = .denoised
        s.solver = .adam()
        s.resample = 2
        s.viewsPerStep = viewsInQuarterTurns ? QuarterTurnTiles.viewCount : 6
        s.carriedNoiseImages = viewsInQuarterTurns ? QuarterTurnTiles.viewCount : 1
        if viewsInQuarterTurns {            // azimuth noise (docs/DESIGN.md, "Azimuth noise for multi-view models")
            s.viewConsistentNoise = true
            s.noiseCorrelation = 0
        }
        return s
    }
}

extension PullbackSampler.DiffrepSettings {
    /// These settings with `count` views per step.
    func withViews(_ count: Int) -> Self {
        var s = self
        s.viewsPerStep = count
        return s
    }
}
