import Foundation
import JSON
import SafeTensors

/// Why a diffusers `scheduler_config.json` could not be turned into a ``DDPMSchedule``.
///
/// ```swift
/// do { _ = try DDPMSchedule(contentsOf: url) }
/// catch let e as ScheduleConfigError { print(e) }   // e.g. "scheduler config 'm/scheduler_config.json': unsupported beta_schedule 'sigmoid' …"
/// ```
public enum ScheduleConfigError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not a JSON object.
    case invalidJSON(String)
    /// A key holds a value of the wrong type or out of range.
    case invalidValue(key: String, value: String, expected: String)
    /// A key holds a valid diffusers value this package does not implement.
    case unsupported(key: String, value: String, supported: [String])
    /// A key written more than once (JSON readers disagree on which copy wins).
    case duplicateKey(String)
    /// The betas give a noise level `σ_t = √((1−ᾱ_t)/ᾱ_t)` that is not a finite positive
    /// 32-bit float (for example `ᾱ_t` underflows to 0 and `σ_t` is infinite).
    case degenerateSigma(timestep: Int, sigma: String)
    /// One of the other errors, in the file at `path` (what ``DDPMSchedule/init(contentsOf:)`` throws).
    indirect case inFile(path: String, ScheduleConfigError)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read scheduler config '\(path)': \(reason)"
        case let .inFile(path, inner): return "scheduler config '\(path)': \(inner.detail)"
        default: return "scheduler config: \(detail)"
        }
    }

    /// The message without the file.
    var detail: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read '\(path)': \(reason)"
        case let .invalidJSON(reason): return "not a JSON object: \(reason)"
        case let .invalidValue(key, value, expected): return "'\(key)' is \(value), expected \(expected)"
        case let .unsupported(key, value, supported):
            return "unsupported \(key) \(value); supported: \(supported.joined(separator: ", "))"
        case let .duplicateKey(key): return "key '\(key)' appears more than once"
        case let .degenerateSigma(t, sigma):
            return "the betas give σ_\(t) = \(sigma), but every σ_t must be finite and positive (HINT: lower beta_end, beta_start or num_train_timesteps)"
        case let .inFile(path, inner): return "'\(path)': \(inner.detail)"
        }
    }

    public var errorDescription: String? { description }
}

extension DDPMSchedule {
    /// Reads a diffusers `scheduler_config.json` (from `DDPMScheduler`, `DDIMScheduler`, …).
    ///
    /// Keys used: `num_train_timesteps`, `beta_start`, `beta_end`, `beta_schedule`,
    /// `prediction_type`, `steps_offset`, `timestep_spacing` (missing keys take diffusers'
    /// defaults). `trained_betas` other than null and `rescale_betas_zero_snr: true` are
    /// rejected. Sampler-side options (`clip_sample`, `thresholding`, `variance_type`,
    /// `set_alpha_to_one`) are ignored: the samplers here never clip, and DDIM ends at σ = 0.
    ///
    /// ```swift
    /// let schedule = try DDPMSchedule(contentsOf: modelDir.appendingPathComponent("scheduler_config.json"))
    /// ```
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ScheduleConfigError.unreadable(path: url.path, reason: FileReadFailure.reason(url, error))
        }
        do { try self.init(configData: data) } catch let e as ScheduleConfigError {
            throw ScheduleConfigError.inFile(path: url.path, e)
        }
    }

    /// Parses the contents of a diffusers `scheduler_config.json`. See ``init(contentsOf:)``.
    public init(configData data: Data) throws {
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch { throw ScheduleConfigError.invalidJSON(error.message) }
        guard case .object(let members) = root else {
            throw ScheduleConfigError.invalidJSON("the top level is not an object")
        }
        var seen: Set<String> = []
        for m in members where !seen.insert(m.key).inserted { throw ScheduleConfigError.duplicateKey(m.key) }
        func present(_ key: String) -> JSONValue? {
            guard let v = members.first(where: { $0.key == key })?.value, v != .null else { return nil }
            return v
        }
        func integer(_ key: String, default d: Int, in allowed: ClosedRange<Int>, _ why: String = "") throws -> Int {
            guard let v = present(key) else { return d }
            guard let x = v.doubleValue, x == x.rounded(), x >= Double(allowed.lowerBound), x <= Double(allowed.upperBound) else {
                throw ScheduleConfigError.invalidValue(
                    key: key, value: v.brief, expected: "an integer in \(allowed.lowerBound)…\(allowed.upperBound)\(why)")
            }
            return Int(x)
        }
        func real(_ key: String, default d: Double) throws -> Double {
            guard let v = present(key) else { return d }
            guard let x = v.doubleValue, x > 0, x < 1 else {
                throw ScheduleConfigError.invalidValue(key: key, value: v.brief, expected: "a number in (0, 1)")
            }
            return x
        }
        func choice<E: RawRepresentable & CaseIterable>(_ key: String, default d: E) throws -> E where E.RawValue == String {
            guard let v = present(key) else { return d }
            guard case .string(let s) = v else {
                throw ScheduleConfigError.invalidValue(key: key, value: v.brief, expected: "a string")
            }
            guard let e = E(rawValue: s) else {
                throw ScheduleConfigError.unsupported(key: key, value: v.brief, supported: E.allCases.map(\.rawValue))
            }
            return e
        }

        if let tb = present("trained_betas") {
            throw ScheduleConfigError.unsupported(key: "trained_betas", value: tb.brief, supported: ["null"])
        }
        if let r = present("rescale_betas_zero_snr"), r != .bool(false) {
            throw ScheduleConfigError.unsupported(key: "rescale_betas_zero_snr", value: r.brief, supported: ["false"])
        }
        let schedule: BetaSchedule = try choice("beta_schedule", default: .linear)
        let prediction: PredictionType = try choice("prediction_type", default: .epsilon)
        let spacing: TimestepSpacing = try choice("timestep_spacing", default: .leading)
        let steps = try integer("num_train_timesteps", default: 1000, in: DDPMSchedule.trainTimestepsRange)
        let offset = try integer("steps_offset", default: 0, in: 0...(steps - 1), " (below num_train_timesteps)")
        let start = try real("beta_start", default: 0.0001)
        let end = try real("beta_end", default: 0.02)
        if schedule != .squaredCosCapV2, start > end {
            throw ScheduleConfigError.invalidValue(key: "beta_start", value: present("beta_start")?.brief ?? "\(start)",
                                                   expected: "at most beta_end (\(present("beta_end")?.brief ?? "\(end)"))")
        }
        try DDPMSchedule.checkSigmas(schedule, count: steps, start: start, end: end)
        self.init(numTrainTimesteps: steps, betaStart: start, betaEnd: end, betaSchedule: schedule,
                  predictionType: prediction, stepsOffset: offset, timestepSpacing: spacing)
    }
}

extension DDPMSchedule {
    /// The `num_train_timesteps` a config may ask for: at least 2, and at most 100,000 (10⁵
    /// levels already far exceed any released model; the cap keeps a typo from allocating).
    public static let trainTimestepsRange = 2...100_000

    /// Throws ``ScheduleConfigError/degenerateSigma(timestep:sigma:)`` unless every `σ_t` of
    /// these betas is a finite positive `Float` (the same arithmetic as ``init(numTrainTimesteps:betaStart:betaEnd:betaSchedule:predictionType:stepsOffset:timestepSpacing:)``).
    static func checkSigmas(_ schedule: BetaSchedule, count: Int, start: Double, end: Double) throws {
        var acc = 1.0
        for (t, b) in betas(schedule, count: count, start: start, end: end).enumerated() {
            acc *= 1 - b
            let sigma = Float(Foundation.exp(0.5 * Foundation.log((1 - acc) / acc)))
            guard b > 0, b < 1, sigma.isFinite, sigma > 0 else {
                throw ScheduleConfigError.degenerateSigma(timestep: t, sigma: "\(sigma)")
            }
        }
    }

    /// The schedule as diffusers' `DDPMScheduler` writes its `scheduler_config.json`.
    public func configJSON() -> JSONValue {
        ["_class_name": "DDPMScheduler", "_diffusers_version": "0.42.1",
         "num_train_timesteps": .int(numTrainTimesteps), "beta_start": .double(betaStart), "beta_end": .double(betaEnd),
         "beta_schedule": .string(betaSchedule.rawValue), "prediction_type": .string(predictionType.rawValue),
         "steps_offset": .int(stepsOffset), "timestep_spacing": .string(timestepSpacing.rawValue),
         "clip_sample": false, "variance_type": "fixed_small"]
    }

    /// Writes ``configJSON()`` to `url` (atomically).
    public func writeConfig(to url: URL) throws {
        let data = try configJSON().encoded([.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    }
}
