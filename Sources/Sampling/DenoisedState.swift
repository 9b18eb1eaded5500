import Diffreps
import TensorCore

/// The denoised state: the parameters hold the clean estimate, which every diffrep can render,
/// and each step adds per-view noise `σ·ε_k` to the renders before the denoiser, with
/// `ε_k = √ρ·s_k + √(1−ρ)·η_k` (`s_k` view k's carried image, `η_k` fresh noise or the diffrep's
/// view-consistent noise; docs/DESIGN.md §2). The parameters never hold noise, so there is
/// none to add to them: no initial noise, no η noise, no RePaint re-noising (a resampled level
/// redoes its step from the new estimate).
///
/// ```swift
/// let config = PullbackSampler.Configuration(sigmas: sigmas, state: .denoised)   // ρ = 1: DDIM on a pixel grid
/// ```
struct DenoisedState: PullbackState {
    /// `ρ`, the correlation of the per-view noise across views and steps.
    let noiseCorrelation: Float
    /// Above this σ every view takes its carried image alone (nil: one rule at every level).
    let carriedAboveSigma: Float?
    /// Take the fresh part of the noise from the diffrep's view-consistent noise, where it has one.
    let viewConsistentNoise: Bool
    /// With view-consistent noise: the carried image's per-channel means instead of mixing by ρ.
    let shareNoiseMean: Bool
    /// The seed of the diffrep's view-consistent noise.
    let noiseSeed: UInt64
    /// `s`, drawn once per run (nil: nothing carried).
    let carried: CarriedNoise?

    init(settings: PullbackSampler.DiffrepSettings, configuration: PullbackSampler.Configuration, carried: CarriedNoise?) {
        noiseCorrelation = settings.noiseCorrelation
        carriedAboveSigma = configuration.carriedAboveSigma
        viewConsistentNoise = settings.viewConsistentNoise
        shareNoiseMean = configuration.shareNoiseMean
        noiseSeed = configuration.seed ^ 0x5E_ED_0F_5E_ED
        self.carried = carried
    }

    /// The renders plus `σ·ε_k`.
    func denoiserInput<R: Diffrep>(_ x: Tensor, of diffrep: R, views: [R.View], sigma: Float,
                                   noise: inout RandomGenerator) -> Tensor {
        GradMode.withoutGrad { x + viewNoise(diffrep, views: views, shape: x.shape, sigma: sigma, fresh: &noise).scaled(by: sigma) }
    }

    /// Nothing: the parameters hold no noise (each step draws its own per view).
    func addNoise<R: Diffrep>(std: Float, run: PullbackRun<R>, views: () throws -> [R.View],
                              noise: inout RandomGenerator) throws {}

    /// The per-view noise `ε_k` of `views` at level `sigma` (nil: below any switch), `[K, C, H, W]`:
    /// the carried images alone above ``carriedAboveSigma``; else the diffrep's view-consistent
    /// noise when asked for and available, mixed with the carried images; else
    /// ``mixedNoise(shape:fresh:)``.
    func viewNoise<R: Diffrep>(_ diffrep: R, views: [R.View], shape: [Int], sigma: Float? = nil,
                               fresh: inout RandomGenerator) -> Tensor {
        if let carried, let above = carriedAboveSigma, let sigma, sigma > above {
            return repeatedCarried(carried, shape: shape)
        }
        guard viewConsistentNoise, let e = diffrep.viewConsistentNoise(views, seed: noiseSeed) else {
            return mixedNoise(shape: shape, fresh: &fresh)
        }
        precondition(e.shape == shape, "viewConsistentNoise returned \(e.shape) for renders of \(shape)")
        guard let carried else { return e }
        if shareNoiseMean {
            // Each view's noise keeps its own layout (e_k) but takes the carried image's
            // per-channel mean: the views' global choices (colour) come from one draw.
            let plane = shape.count > 2 ? shape[2...].reduce(1, *) : 1, channels = shape[1], perView = channels * plane
            var out = e.data
            for k in 0..<shape[0] { for c in 0..<channels {
                let base = k * perView + c * plane, image = carried.offset(view: k, perImage: perView)
                var me: Float = 0, ms: Float = 0
                for p in 0..<plane { me += out[base + p]; ms += carried.values[image + c * plane + p] }
                let shift = (ms - me) / Float(plane)
                for p in 0..<plane { out[base + p] += shift }
            } }
            return Tensor(shape, data: out)
        }
        // The carried image's share makes the views' global choices agree; e_k turns with the object.
        return mixed(carried, perView: e.data, shape: shape)
    }

    /// `ε_k = √ρ·s_k + √(1−ρ)·η_k` for `K` views (`η_k` drawn from `fresh`; all fresh when
    /// nothing is carried): `[K, C, H, W]`.
    func mixedNoise(shape: [Int], fresh: inout RandomGenerator) -> Tensor {
        guard let carried else { return fresh.normal(shape) }
        let perView = shape.dropFirst().reduce(1, *)
        precondition(carried.values.count == carried.count * perView, "carried noise of \(carried.values.count) values for renders \(shape)")
        if noiseCorrelation >= 1 {       // nothing fresh to draw: the noise streams stay as DDIM's
            return repeatedCarried(carried, shape: shape)
        }
        return mixed(carried, perView: fresh.normalValues(perView * shape[0]), shape: shape)
    }

    /// Each view's carried image: `[K, C, H, W]`.
    func repeatedCarried(_ carried: CarriedNoise, shape: [Int]) -> Tensor {
        let perView = shape.dropFirst().reduce(1, *)
        return Tensor(shape, data: (0..<shape[0]).flatMap { k in
            let start = carried.offset(view: k, perImage: perView)
            return carried.values[start..<(start + perView)]
        })
    }

    /// `ε_k = √ρ·s_k + √(1−ρ)·e_k` with `s_k` view k's carried image and `e_k` = `perView` (`[K, C, H, W]`).
    func mixed(_ carried: CarriedNoise, perView e: [Float], shape: [Int]) -> Tensor {
        let rho = noiseCorrelation
        let a = rho.squareRoot(), b = (1 - rho).squareRoot(), n = shape.dropFirst().reduce(1, *)
        return Tensor(shape, data: (0..<e.count).map { a * carried.values[carried.offset(view: $0 / n, perImage: n) + $0 % n] + b * e[$0] })
    }
}
