import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Parity with diffusers' `UNet2DConditionModel`: fixtures made by Fixtures/make_sd_fixtures.py
/// (an SD 1-like config with conv projections and one head count, F32 weights; an SD 2-like one
/// with linear projections, per-block head counts, transformer depths and layer counts, F16 weights).
@Suite struct UNet2DConditionParityTests {
    static func fixture(_ name: String) throws -> (UNet2DCondition, [String: Tensor], URL) {
        let folder = try fixtureURL("sd_unet_\(name)")
        let unet = try UNet2DCondition(contentsOf: folder)
        let io = try SafeTensors.loadDictionary(contentsOf: folder.appendingPathComponent("io.safetensors"))
        return (unet, io, folder)
    }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) } }
    static func scale(_ a: [Float]) -> Float { a.reduce(0) { Swift.max($0, abs($1)) } }

    @Test(arguments: ["sd1", "sd2"])
    func outputsAndGradientsMatchDiffusers(_ name: String) throws {
        let (unet, io, _) = try Self.fixture(name)
        let x = try #require(io["sample"]), states = try #require(io["encoder_hidden_states"])
        let expected = try #require(io["output"]), u = try #require(io["u"])
        x.requiresGrad = true
        states.requiresGrad = true
        let out = unet.predict(x, timesteps: try #require(io["timesteps"]).data, encoderHiddenStates: states)
        #expect(out.shape == expected.shape)
        let err = Self.maxAbs(out.data, expected.data), scale = Self.scale(expected.data)
        #expect(err <= 1e-4 * scale, "output max-abs error \(err) (scale \(scale))")

        out.backward(seed: u.data)
        let weights = ["conv_in.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
                       "down_blocks.0.attentions.0.proj_in.weight",
                       "mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight",
                       "up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight"]
        let checks = [("sample", x), ("encoder_hidden_states", states)] + weights.map { ($0, unet.parameters[$0]!) }
        for (n, t) in checks {
            let g = try #require(t.grad, "no gradient reached \(n)")
            let ref = try #require(io["grad." + n])
            let gerr = Self.maxAbs(g, ref.data), gscale = Self.scale(ref.data)
            #expect(gerr <= 1e-3 * gscale, "gradient \(n): max-abs error \(gerr) (scale \(gscale))")
        }
    }

    /// The scheduler's `prediction_type` through ``DDPMDenoiser``: D(x; σ_500) equals the
    /// scheduler's pred_original_sample at t = 500 (ε for sd1, v for sd2).
    @Test(arguments: [("sd1", PredictionType.epsilon), ("sd2", .vPrediction)])
    func denoiserMatchesSchedulerFormula(_ name: String, _ prediction: PredictionType) throws {
        let (unet, io, folder) = try Self.fixture(name)
        let schedule = try DDPMSchedule(contentsOf: folder.appendingPathComponent("scheduler_config.json"))
        #expect(schedule.predictionType == prediction)
        let denoiser = DDPMDenoiser(network: unet.conditioned(on: try #require(io["encoder_hidden_states"])), schedule: schedule)
        let sigma = schedule.sigmas[500]
        let xt = try #require(io["xt_500"]), expected = try #require(io["x0_500"])
        let x = xt.scaled(by: (1 + sigma * sigma).squareRoot())                  // VE state x = x_t/√ᾱ
        let d = GradMode.withoutGrad { denoiser.denoise(x, sigma: sigma, condition: nil) }
        let err = Self.maxAbs(d.data, expected.data), scale = Self.scale(expected.data)
        #expect(err <= 1e-4 * scale, "D max-abs error \(err) (scale \(scale))")
    }

    @Test func sharedTextStatesEqualRepeatedOnes() throws {
        let (unet, io, _) = try Self.fixture("sd1")
        let x = try #require(io["sample"]), states = try #require(io["encoder_hidden_states"])
        let first = states.slice(axis: 0, 0..<1)                                 // [1, L, D]
        let shared = GradMode.withoutGrad { unet.predict(x, timesteps: [17, 613.5], encoderHiddenStates: first) }
        let repeated = GradMode.withoutGrad {
            unet.predict(x, timesteps: [17, 613.5], encoderHiddenStates: Tensor.concat([first, first], axis: 0))
        }
        #expect(shared.data == repeated.data)
    }

    @Test func savedFolderRoundTrips() throws {
        let (unet, io, _) = try Self.fixture("sd2")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try unet.save(to: dir)
        let again = try UNet2DCondition(contentsOf: dir)
        #expect(again.config == unet.config)
        let x = try #require(io["sample"]), states = try #require(io["encoder_hidden_states"])
        let a = GradMode.withoutGrad { unet.predict(x, timesteps: [3, 4], encoderHiddenStates: states) }
        let b = GradMode.withoutGrad { again.predict(x, timesteps: [3, 4], encoderHiddenStates: states) }
        #expect(a.data == b.data)
    }
}
