import Foundation
import Testing
import Diffusion

/// Scheduler configs whose betas, step counts or offsets would make sampling trap or allocate
/// without bound, and DDIM step counts the schedule cannot give.
@Suite struct ScheduleValidationTests {
    /// Writes `json` as `scheduler_config.json` in a fresh folder and loads it; returns the
    /// error and the file's path.
    func load(_ json: String) throws -> (error: ScheduleConfigError?, path: String) {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("scheduler_config.json")
        try Data(json.utf8).write(to: file)
        do {
            _ = try DDPMSchedule(contentsOf: file)
            Issue.record("accepted \(json)")
            return (nil, file.path)
        } catch let e as ScheduleConfigError {
            return (e, file.path)
        }
    }

    @Test func betaStartAboveBetaEnd() throws {
        let r = try load(#"{"beta_start": 0.03, "beta_end": 0.02}"#)
        #expect(r.error == .inFile(path: r.path, .invalidValue(key: "beta_start", value: "0.03", expected: "at most beta_end (0.02)")))
        // The cosine schedule ignores the betas' range.
        _ = try DDPMSchedule(configData: Data(#"{"beta_start": 0.03, "beta_end": 0.02, "beta_schedule": "squaredcos_cap_v2"}"#.utf8))
    }

    @Test(arguments: [("beta_start", "0"), ("beta_start", "-0.1"), ("beta_end", "1"), ("beta_end", "1.5"), ("beta_start", "1e-400")])
    func betasOutsideTheOpenUnitInterval(key: String, value: String) throws {
        let r = try load("{\"\(key)\": \(value)}")
        #expect(r.error == .inFile(path: r.path, .invalidValue(key: key, value: value, expected: "a number in (0, 1)")))
    }

    @Test func betasThatMakeSigmaNonFinite() throws {
        // ᾱ_t underflows to 0 (σ infinite) long before the last step.
        let big = try load(#"{"beta_start": 0.5, "beta_end": 0.9}"#)
        guard case .inFile(_, .degenerateSigma(let t, let sigma))? = big.error else {
            Issue.record("expected degenerateSigma, got \(String(describing: big.error))")
            return
        }
        #expect(sigma == "inf" && t > 0 && t < 1000)
        // σ_0 is 0 (1 − β_0 rounds to 1).
        let tiny = try load(#"{"beta_start": 1e-90, "beta_end": 0.02}"#)
        #expect(tiny.error == .inFile(path: tiny.path, .degenerateSigma(timestep: 0, sigma: "0.0")))
    }

    @Test(arguments: ["0", "1", "-5", "100001", "1e9", "12.5"])
    func trainTimestepsOutOfRange(value: String) throws {
        let r = try load("{\"num_train_timesteps\": \(value)}")
        #expect(r.error == .inFile(path: r.path, .invalidValue(key: "num_train_timesteps", value: value, expected: "an integer in 2…100000")))
    }

    @Test(arguments: ["1000", "-1", "1000000000000", "0.5"])
    func stepsOffsetOutOfRange(value: String) throws {
        let r = try load("{\"num_train_timesteps\": 1000, \"steps_offset\": \(value)}")
        #expect(r.error == .inFile(path: r.path, .invalidValue(key: "steps_offset", value: value,
                                                               expected: "an integer in 0…999 (below num_train_timesteps)")))
    }

    @Test func duplicateKeys() throws {
        let r = try load(#"{"beta_end": 0.02, "beta_start": 0.0001, "beta_end": 0.9}"#)
        #expect(r.error == .inFile(path: r.path, .duplicateKey("beta_end")))
    }

    /// The message names the file, the key, the value and the range.
    @Test func messagesNameFileKeyValueAndRange() throws {
        let r = try load(#"{"num_train_timesteps": 5000000}"#)
        let message = try #require(r.error).description
        for part in [r.path, "num_train_timesteps", "5000000", "2…100000"] { #expect(message.contains(part), "\(message) lacks \(part)") }
    }

    @Test func ddimStepsBeyondTheTrainingTimesteps() throws {
        let s = DDPMSchedule(numTrainTimesteps: 100)
        #expect(throws: ScheduleStepsError.outOfRange(steps: 101, trainTimesteps: 100)) { try s.checkedDDIMSigmas(steps: 101) }
        #expect(throws: ScheduleStepsError.outOfRange(steps: 0, trainTimesteps: 100)) { try s.checkedDDIMSigmas(steps: 0) }
        #expect(try s.checkedDDIMSigmas(steps: 100) == s.ddimSigmas(steps: 100))
    }

    /// Leading spacing with `steps_offset` 1 puts the top two of `T` steps both on `T−1`.
    @Test func ddimStepsThatRepeatALevel() throws {
        let s = DDPMSchedule(numTrainTimesteps: 100, stepsOffset: 1)
        #expect(throws: ScheduleStepsError.repeatedLevel(steps: 100, timestep: 99, maxSteps: 99)) { try s.checkedDDIMSigmas(steps: 100) }
        let sigmas = try s.checkedDDIMSigmas(steps: 99)
        #expect(zip(sigmas, sigmas.dropFirst()).allSatisfy { $0 > $1 })
        let far = DDPMSchedule(numTrainTimesteps: 100, stepsOffset: 90)
        #expect(throws: ScheduleStepsError.repeatedLevel(steps: 10, timestep: 99, maxSteps: 2)) { try far.checkedDDIMSigmas(steps: 10) }
        #expect(try far.checkedDDIMSigmas(steps: 2).count == 3)
    }
}
