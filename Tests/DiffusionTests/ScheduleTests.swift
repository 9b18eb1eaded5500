import Foundation
import Testing
import TensorCore
@testable import Diffusion
import TestSupport

/// Reference values from diffusers (Fixtures/make_schedule_fixtures.py).
private struct ScheduleFixture: Decodable {
    struct Entry: Decodable {
        let alphas_cumprod: [Double]
        let ddim_timesteps: [String: [Int]]
    }
    let schedules: [String: Entry]
}

private func loadScheduleFixture() throws -> ScheduleFixture {
    try JSONDecoder().decode(ScheduleFixture.self, from: Data(contentsOf: fixtureURL("schedules.json")))
}

private func configURL(_ name: String) throws -> URL {
    try fixtureURL("schedulers/\(name)/scheduler_config.json")
}

@Suite struct ScheduleTests {
    /// Each config as diffusers saved it parses to the intended fields.
    @Test func parsesDiffusersConfigs() throws {
        let linear = try DDPMSchedule(contentsOf: configURL("linear"))
        #expect(linear == DDPMSchedule())
        let sd = try DDPMSchedule(contentsOf: configURL("scaled_linear"))
        #expect(sd == DDPMSchedule(betaStart: 0.00085, betaEnd: 0.012, betaSchedule: .scaledLinear,
                                   predictionType: .vPrediction, stepsOffset: 1))
        let cos = try DDPMSchedule(contentsOf: configURL("squaredcos_cap_v2"))
        #expect(cos.numTrainTimesteps == 500 && cos.betaSchedule == .squaredCosCapV2)
        #expect(cos.timestepSpacing == .trailing && cos.predictionType == .sample)
        let lin = try DDPMSchedule(contentsOf: configURL("linspace"))
        #expect(lin.timestepSpacing == .linspace)
    }

    /// google/ddpm-cifar10-32's config (an old DDPMScheduler without newer keys) takes diffusers' defaults.
    @Test func missingKeysTakeDefaults() throws {
        let json = #"{"_class_name": "DDPMScheduler", "_diffusers_version": "0.1.1", "beta_end": 0.02, "beta_schedule": "linear", "beta_start": 0.0001, "clip_sample": true, "num_train_timesteps": 1000, "trained_betas": null, "variance_type": "fixed_large"}"#
        #expect(try DDPMSchedule(configData: Data(json.utf8)) == DDPMSchedule())
    }

    /// ᾱ_t and σ_t against diffusers' DDPMScheduler (which computes in float32).
    @Test(arguments: ["linear", "scaled_linear", "squaredcos_cap_v2"])
    func alphasCumprodMatchDiffusers(name: String) throws {
        let reference = try #require(try loadScheduleFixture().schedules[name])
        let s = try DDPMSchedule(contentsOf: configURL(name))
        try #require(s.alphasCumprod.count == reference.alphas_cumprod.count)
        var worst = 0.0
        for (a, r) in zip(s.alphasCumprod, reference.alphas_cumprod) { worst = max(worst, abs(a - r) / r) }
        #expect(worst < 3e-5, "\(name): ᾱ relative error \(worst)")
        let refSigmas = reference.alphas_cumprod.map { Float(((1 - $0) / $0).squareRoot()) }
        assertClose(s.sigmas, refSigmas, rtol: 3e-4, atol: 0, "\(name) σ_t")
        #expect(zip(s.sigmas, s.sigmas.dropFirst()).allSatisfy { $0 < $1 }, "σ_t must increase")
    }

    /// DDIM timesteps against diffusers' DDIMScheduler.set_timesteps for each spacing.
    @Test(arguments: ["linear", "scaled_linear", "squaredcos_cap_v2", "linspace"])
    func ddimTimestepsMatchDiffusers(name: String) throws {
        let reference = try #require(try loadScheduleFixture().schedules[name])
        let s = try DDPMSchedule(contentsOf: configURL(name))
        #expect(reference.ddim_timesteps.count == 5)
        for (steps, ts) in reference.ddim_timesteps {
            let n = try #require(Int(steps))
            #expect(s.ddimTimesteps(steps: n) == ts, "\(name), \(n) steps")
            let sigmas = s.ddimSigmas(steps: n)
            #expect(sigmas == ts.map { s.sigmas[$0] } + [0], "\(name), \(n) steps: σ at the timesteps, then 0")
        }
    }

    /// σ → t → σ and t → σ → t are identities; on the grid σ(t) = σ_t; between, linear in log σ.
    @Test func sigmaTimestepRoundTrip() {
        let s = DDPMSchedule()
        for t in stride(from: Float(0), through: 999, by: 0.37) {
            let back = s.timestep(forSigma: s.sigma(forTimestep: t))
            #expect(abs(back - t) < 2e-3, "t = \(t) came back as \(back)")
        }
        for t in [0, 1, 17, 500, 998, 999] {
            #expect(abs(s.sigma(forTimestep: Float(t)) - s.sigmas[t]) <= 1e-6 * s.sigmas[t])
            #expect(s.timestep(forSigma: s.sigmas[t]) == Float(t), "grid levels give integer timesteps")
        }
        let mid = s.sigma(forTimestep: 250.5)
        #expect(abs(mid - (s.sigmas[250] * s.sigmas[251]).squareRoot()) < 1e-5 * mid, "geometric mean halfway")
        for sigma: Float in [0.02, 0.3, 1, 7.5, 80] {
            let back = s.sigma(forTimestep: s.timestep(forSigma: sigma))
            #expect(abs(back - sigma) < 1e-4 * sigma, "σ = \(sigma) came back as \(back)")
        }
        // clamped outside [σ_0, σ_max]
        #expect(s.timestep(forSigma: 0) == 0)
        #expect(s.timestep(forSigma: 1e-4) == 0)
        #expect(s.timestep(forSigma: 1e6) == 999)
        #expect(s.sigma(forTimestep: -3) == s.sigma(forTimestep: 0))
        #expect(s.sigma(forTimestep: 5000) == s.sigma(forTimestep: 999))
    }

    @Test func karrasLevels() {
        let k = KarrasSchedule.sigmas(steps: 10, sigmaMin: 0.002, sigmaMax: 80)
        #expect(k.count == 11 && k[0] == 80 && k[9] == 0.002 && k[10] == 0)
        #expect(zip(k, k.dropFirst()).allSatisfy { $0 > $1 })
        // ρ = 1 spaces the levels linearly; ρ = 7 follows eq. 5 of Karras et al.
        let lin = KarrasSchedule.sigmas(steps: 5, sigmaMin: 1, sigmaMax: 5, rho: 1)
        assertClose(lin, [5, 4, 3, 2, 1, 0], rtol: 1e-6, atol: 1e-6)
        let mid = Foundation.pow((Foundation.pow(80.0, 1 / 7.0) + 0.5 * (Foundation.pow(0.002, 1 / 7.0) - Foundation.pow(80.0, 1 / 7.0))), 7)
        let k3 = KarrasSchedule.sigmas(steps: 3, sigmaMin: 0.002, sigmaMax: 80)
        #expect(abs(Double(k3[1]) - mid) < 1e-6 * mid)
        let s = DDPMSchedule()
        let ks = s.karrasSigmas(steps: 20)
        #expect(ks.first == s.sigmaMax && ks[19] == s.sigmaMin && ks.last == 0)
    }

    /// Each unsupported or malformed value is named in its error.
    @Test func rejectsUnsupportedConfigs() throws {
        func parse(_ json: String) throws { _ = try DDPMSchedule(configData: Data(json.utf8)) }
        #expect(throws: ScheduleConfigError.unsupported(key: "beta_schedule", value: "'sigmoid'",
                                                       supported: ["linear", "scaled_linear", "squaredcos_cap_v2"])) {
            try parse(#"{"beta_schedule": "sigmoid"}"#)
        }
        #expect(throws: ScheduleConfigError.unsupported(key: "prediction_type", value: "'flow'",
                                                       supported: ["epsilon", "v_prediction", "sample"])) {
            try parse(#"{"prediction_type": "flow"}"#)
        }
        #expect(throws: ScheduleConfigError.unsupported(key: "timestep_spacing", value: "'weird'",
                                                       supported: ["leading", "trailing", "linspace"])) {
            try parse(#"{"timestep_spacing": "weird"}"#)
        }
        #expect(throws: ScheduleConfigError.unsupported(key: "trained_betas", value: "an array", supported: ["null"])) {
            try parse(#"{"trained_betas": [0.1, 0.2]}"#)
        }
        #expect(throws: ScheduleConfigError.invalidValue(key: "steps_offset", value: "true", expected: "an integer in 0…999 (below num_train_timesteps)")) {
            try parse(#"{"steps_offset": true}"#)
        }
        #expect(throws: ScheduleConfigError.unsupported(key: "rescale_betas_zero_snr", value: "true", supported: ["false"])) {
            try parse(#"{"rescale_betas_zero_snr": true}"#)
        }
        #expect(throws: ScheduleConfigError.invalidValue(key: "num_train_timesteps", value: "'many'", expected: "an integer in 2…100000")) {
            try parse(#"{"num_train_timesteps": "many"}"#)
        }
        #expect(throws: ScheduleConfigError.invalidValue(key: "beta_end", value: "2", expected: "a number in (0, 1)")) {
            try parse(#"{"beta_end": 2}"#)
        }
        #expect(throws: ScheduleConfigError.invalidJSON("the top level is not an object")) { try parse("[1, 2]") }
        #expect(throws: ScheduleConfigError.self) { try parse("{\"beta_end\": ") }
        #expect(throws: ScheduleConfigError.self) {
            _ = try DDPMSchedule(contentsOf: URL(fileURLWithPath: "/nonexistent/scheduler_config.json"))
        }
        let message = ScheduleConfigError.unsupported(key: "beta_schedule", value: "'sigmoid'", supported: ["linear"]).description
        #expect(message.contains("beta_schedule") && message.contains("sigmoid"))
    }
}
