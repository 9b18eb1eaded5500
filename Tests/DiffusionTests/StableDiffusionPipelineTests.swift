import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Parity with diffusers' `StableDiffusionPipeline` run with a DDIMScheduler, η = 0, 4 steps, from
/// given latents: fixtures made by Fixtures/make_pipeline_fixtures.py (sd1: F32 single files, a
/// PNDM scheduler config, a negative prompt, ε; sd2: the fp16 variant with a sharded UNet,
/// v-prediction, trailing spacing, the empty negative prompt).
@Suite struct StableDiffusionPipelineParityTests {
    struct Fixture {
        let pipeline: StableDiffusionPipeline
        let io: [String: Tensor]
        let prompt: String, negative: String?, guidance: Float
    }

    static func fixture(_ name: String) throws -> Fixture {
        let pipeline = try StableDiffusionPipeline(contentsOf: try fixtureURL("sd_pipeline_\(name)"))
        let url = try fixtureURL("sd_pipeline_\(name)_io.safetensors")
        let contents = try SafeTensors.read(contentsOf: url)
        let meta = try #require(contents.metadata)
        let negative = try #require(meta["negative_prompt"])
        return Fixture(pipeline: pipeline, io: contents.dictionary,
                       prompt: try #require(meta["prompt"]), negative: negative.isEmpty ? nil : negative,
                       guidance: try #require(meta["guidance"].flatMap { Float($0) }))
    }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) } }
    static func scale(_ a: [Float]) -> Float { a.reduce(0) { Swift.max($0, abs($1)) } }

    /// `a` within `tolerance` × the largest magnitude of `expected`.
    static func expectClose(_ a: Tensor, _ expected: Tensor, _ tolerance: Float = 1e-4, _ what: String) {
        #expect(a.shape == expected.shape, "\(what): shape \(a.shape), expected \(expected.shape)")
        let err = maxAbs(a.data, expected.data), s = scale(expected.data)
        #expect(err <= tolerance * s, "\(what): max-abs error \(err) (scale \(s))")
    }

    /// The prompt embeddings, each step's timestep, the UNet's ε for both halves and the latents after
    /// each step, stepped with the library's pieces (one batched guided call per step).
    @Test(arguments: ["sd1", "sd2"])
    func everyStepMatchesDiffusers(_ name: String) throws {
        let f = try Self.fixture(name)
        let sd = f.pipeline
        let texts = sd.encode(prompts: [f.prompt, f.negative ?? ""])
        let embeds = try #require(f.io["prompt_embeds"])                              // [2, 77, D]: negative, prompt
        Self.expectClose(texts[1].states, embeds.sliceBatch(0..<1).reshaped(texts[1].states.shape), 1e-4, "negative prompt states")
        Self.expectClose(texts[0].states, embeds.sliceBatch(1..<2).reshaped(texts[0].states.shape), 1e-4, "prompt states")

        let sigmas = try sd.ddimSigmas(steps: 4)
        let network = sd.unet.conditioned(on: texts[1].states)
        let denoiser = sd.denoiser(prompt: f.prompt, negativePrompt: f.negative, guidance: f.guidance)
        let latents = try #require(f.io["latents"])
        var x = sd.startingLatents(latents, sigma: sigmas[0])                            // [1, 4, h, w]
        try GradMode.withoutGrad {
            for k in 0..<4 {
                let t = sd.schedule.timestep(forSigma: sigmas[k])
                let expectedT = try #require(f.io["t_\(k)"]).data[0]
                #expect(t == expectedT, "step \(k): timestep \(t), diffusers \(expectedT)")
                let s = sigmas[k]
                let vp = x.scaled(by: 1 / (1 + s * s).squareRoot())
                let eps = network.predict(Tensor.concatBatch([vp, vp]), timesteps: [t, t],
                                          conditions: [DenoiserCondition(text: texts[1]), DenoiserCondition(text: texts[0])])
                Self.expectClose(eps, try #require(f.io["eps_\(k)"]), 1e-4, "step \(k): UNet output (negative, prompt)")
                let d = denoiser.denoise(x, sigma: s, condition: nil)
                x = ddimStep(x: x, denoised: d, sigma: s, nextSigma: sigmas[k + 1], eta: 0, noise: nil)
                let next = sigmas[k + 1]
                Self.expectClose(x.scaled(by: 1 / (1 + next * next).squareRoot()), try #require(f.io["latents_\(k)"]), 1e-4,
                                 "step \(k): latents after the step")
            }
        }
    }

    /// The whole run through the public sampler, as `diffrep sample --initial-noise` does it: the
    /// final latents within 1e-4, the decoded image within 1e-4 of its scale, and the picture
    /// (`(x + 1)/2` clamped to [0, 1]) within 1/255 of diffusers' output.
    @Test(arguments: ["sd1", "sd2"])
    func ddimSamplerReproducesThePipelineImage(_ name: String) throws {
        let f = try Self.fixture(name)
        let sd = f.pipeline
        let latents = try #require(f.io["latents"])
        let sigmas = try sd.ddimSigmas(steps: 4)
        var config = SamplerConfig(sigmas: sigmas, seed: 0)
        config.startsLikeDiffusers = true
        config.givenInitialNoise = latents.data
        let x = try DDIMSampler(eta: 0).sample(sd.denoiser(prompt: f.prompt, negativePrompt: f.negative, guidance: f.guidance),
                                               shape: latents.shape, config: config)
        let last = sigmas.last!
        Self.expectClose(x.scaled(by: 1 / (1 + last * last).squareRoot()), try #require(f.io["latents_3"]), 1e-4, "final latents")
        let decoded = GradMode.withoutGrad { sd.decodeImage(x, sigma: last) }
        Self.expectClose(decoded, try #require(f.io["decoded"]), 1e-4, "decoded image")
        let picture = decoded.data.map { Swift.min(Swift.max($0 / 2 + 0.5, 0), 1) }
        let expected = try #require(f.io["image"])
        let err = Self.maxAbs(picture, expected.data)
        #expect(err <= 1 / 255, "image max-abs error \(err) (1/255 = \(1 / 255.0))")
        #expect(Set(expected.data.map { ($0 * 20).rounded() }).count > 10, "the reference image is not flat")
    }

    /// The schedule diffusers' DDIM steps through: SD 1.x's `set_alpha_to_one: false` ends at σ₀
    /// (the PNDM config the sd1 folder ships), sd2's `true` at 0.
    @Test func ddimLevelsEndWhereDiffusersEnds() throws {
        let sd1 = try Self.fixture("sd1").pipeline, sd2 = try Self.fixture("sd2").pipeline
        #expect(!sd1.setAlphaToOne && sd2.setAlphaToOne)
        let s1 = try sd1.ddimSigmas(steps: 4), s2 = try sd2.ddimSigmas(steps: 4)
        #expect(s1.count == 5 && s1.last == sd1.schedule.sigmaMin)
        #expect(s2.count == 5 && s2.last == 0)
        #expect(s1.dropLast().map { sd1.schedule.timestep(forSigma: $0) } == [751, 501, 251, 1])
        #expect(s2.dropLast().map { sd2.schedule.timestep(forSigma: $0) } == [999, 749, 499, 249])
    }
}

/// Text through ``DenoiserCondition``: guidance batches the prompt and the negative prompt into one
/// UNet call, and gives what two separate calls give.
@Suite struct TextGuidanceTests {
    /// Counts the network's calls and the batch sizes it saw.
    final class Counting: NoisePredictionNetwork, @unchecked Sendable {
        let base: TextConditionedUNet
        var batches: [Int] = []
        init(_ base: TextConditionedUNet) { self.base = base }
        func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor {
            batches.append(x.shape[0])
            return base.predict(x, timesteps: timesteps, classLabels: classLabels)
        }
        func predict(_ x: Tensor, timesteps: [Float], conditions: [DenoiserCondition]?) -> Tensor {
            batches.append(x.shape[0])
            return base.predict(x, timesteps: timesteps, conditions: conditions)
        }
    }

    @Test func guidanceIsOneBatchedCallEqualToTwoCalls() throws {
        let sd = try StableDiffusionPipelineParityTests.fixture("sd1").pipeline
        let texts = sd.encode(prompts: ["a red box", "blurry"])
        let counting = Counting(sd.unet.conditioned(on: texts[1].states))
        let base = DDPMDenoiser(network: counting, schedule: sd.schedule)
        let guided = PromptedDenoiser(base: GuidedDenoiser(base: base, guidance: 5, nullClass: nil, nullText: texts[1]), text: texts[0])
        var rng = RandomGenerator(seed: 4)
        let x = rng.normal([2, 4, 8, 8]).scaled(by: 3)
        let d = GradMode.withoutGrad { guided.denoise(x, sigma: 3, condition: nil) }
        #expect(counting.batches == [4], "one UNet call of 2B items, got \(counting.batches)")

        let plain = sd.textDenoiser(defaultText: texts[1])
        let (cond, uncond) = GradMode.withoutGrad {
            (plain.denoise(x, sigma: 3, conditions: [DenoiserCondition(text: texts[0]), DenoiserCondition(text: texts[0])]),
             plain.denoise(x, sigma: 3, conditions: nil))
        }
        let expected = uncond + (cond - uncond).scaled(by: 5)
        StableDiffusionPipelineParityTests.expectClose(d, expected, 1e-5, "guided vs two calls")
        let gap = StableDiffusionPipelineParityTests.maxAbs(cond.data, uncond.data)
        #expect(gap > 1e-3, "the prompt changes the denoiser (gap \(gap))")
    }

    /// A prompt given per item wins over the denoiser's prompt; items of one call can differ.
    @Test func itemsKeepTheirOwnText() throws {
        let sd = try StableDiffusionPipelineParityTests.fixture("sd1").pipeline
        let texts = sd.encode(prompts: ["a cat", "a dog", ""])
        let d = sd.denoiser(prompt: "a cat", guidance: 1)
        var rng = RandomGenerator(seed: 5)
        let x = rng.normal([1, 4, 8, 8]).scaled(by: 2)
        let mixed = GradMode.withoutGrad {
            d.denoise(Tensor.concatBatch([x, x]), sigma: 2, conditions: [DenoiserCondition(), DenoiserCondition(text: texts[1])])
        }
        let plain = sd.textDenoiser(defaultText: texts[2])
        let (cat, dog) = GradMode.withoutGrad {
            (plain.denoise(x, sigma: 2, conditions: [DenoiserCondition(text: texts[0])]),
             plain.denoise(x, sigma: 2, conditions: [DenoiserCondition(text: texts[1])]))
        }
        StableDiffusionPipelineParityTests.expectClose(mixed.sliceBatch(0..<1), cat, 1e-5, "item 0: the denoiser's prompt")
        StableDiffusionPipelineParityTests.expectClose(mixed.sliceBatch(1..<2), dog, 1e-5, "item 1: its own prompt")
    }
}
