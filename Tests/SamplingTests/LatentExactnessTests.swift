import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// On a latent grid (`R` = identity on the latents) the pullback sampler *is* DDIM in latent space:
/// with a Stable Diffusion pipeline (the tiny random-weight sd1 fixture of DiffusionTests, made by
/// diffusers) and a prompt, the same seed gives the same latents as `DDIMSampler`, and so the
/// same decoded image.
@Suite struct LatentExactnessTests {
    static func pipeline() throws -> StableDiffusionPipeline {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DiffusionTests/Fixtures/sd_pipeline_sd1")
        return try StableDiffusionPipeline(contentsOf: folder)
    }

    @Test(arguments: [Float(0), 1])
    func pullbackOnLatentGridEqualsDDIM(eta: Float) throws {
        let sd = try Self.pipeline()
        let denoiser = sd.denoiser(prompt: "a photo of a cat", negativePrompt: "blurry", guidance: 4)
        let sigmas = try sd.ddimSigmas(steps: 6)
        let shape = sd.latentShape(count: 1, height: 16, width: 24)                  // [1, 4, 8, 12]
        for seed: UInt64 in [1, 2] {
            let image = LatentImage(channels: shape[1], height: shape[2], width: shape[3])
            let config = PullbackSampler.Configuration(sigmas: sigmas, eta: eta, seed: seed)
            try PullbackSampler(denoiser: denoiser, configuration: config).sample(image)
            let ddim = try DDIMSampler(eta: eta).sample(denoiser, shape: shape, config: SamplerConfig(sigmas: sigmas, seed: seed))
            let scale = ddim.data.reduce(0) { max($0, abs($1)) }
            let err = maxAbsDifference(image.latents.data, ddim.data)
            #expect(err <= 1e-4 * scale, "seed \(seed), η = \(eta): max |pullback − DDIM| = \(err) (scale \(scale))")

            let picture = image.decoded { sd.decodeImage($0, sigma: sigmas.last!) }     // [3, 16, 24]
            let reference = GradMode.withoutGrad { sd.decodeImage(ddim, sigma: sigmas.last!) }
            #expect(picture.shape == [3, 16, 24])
            let imageErr = maxAbsDifference(picture.data, reference.data)
            #expect(imageErr <= 1e-4 * reference.data.reduce(0) { max($0, abs($1)) }, "decoded images differ by \(imageErr)")
        }
    }

    /// The package's default settings for a latent grid are the pixel grid's (DDIM exactly).
    @Test func latentGridDefaultsAreThePixelGrids() {
        let latent = PullbackSampler.DiffrepSettings.defaults(for: LatentImage(channels: 4, height: 2, width: 2))
        let pixel = PullbackSampler.DiffrepSettings.defaults(for: PixelImage(channels: 4, height: 2, width: 2))
        #expect(latent == pixel && latent.viewsPerStep == 1 && latent.state == .noisy)
    }
}
