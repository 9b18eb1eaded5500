import ArgumentParser

/// Checks of command-line values where they enter: each error names the option, the value and
/// what is allowed. Numeric options are declared with `parsing: .unconditional`, so `--steps -1`
/// reaches these checks ("--steps -1 is out of range: allowed 1…100000") instead of the parser
/// reading `-1` as a flag ("Missing value for '--steps'").
enum OptionCheck {
    /// Throws unless `allowed` contains `value` (NaN is never contained).
    static func range<T: Comparable>(_ option: String, _ value: T, _ allowed: ClosedRange<T>) throws {
        guard allowed.contains(value) else {
            throw ValidationError("\(option) \(value) is out of range: allowed \(allowed.lowerBound)…\(allowed.upperBound)")
        }
    }

    /// `value` when given, checked against `allowed`.
    static func range<T: Comparable>(_ option: String, _ value: T?, _ allowed: ClosedRange<T>) throws {
        if let value { try range(option, value, allowed) }
    }

    /// Throws unless `value` (when given) is a finite number > 0, as a learning rate must be.
    static func positive(_ option: String, _ value: Float?) throws {
        if let value, !(value > 0 && value.isFinite) {
            throw ValidationError("\(option) \(value) is out of range: allowed a finite number > 0")
        }
    }

    /// A comma-separated list of whole numbers, each in `allowed`; an entry that is no whole
    /// number is an error naming it (never dropped). An empty text is an empty list when
    /// `allowEmpty`, else an error.
    ///
    /// ```swift
    /// try OptionCheck.integers("--channels", "32,abc,32", allowed: 8...8192)
    /// // --channels '32,abc,32': entry 2, 'abc', is not a whole number
    /// ```
    static func integers(_ option: String, _ text: String, allowed: ClosedRange<Int>, allowEmpty: Bool = false) throws -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            guard allowEmpty else { throw ValidationError("\(option) is empty: give comma-separated whole numbers") }
            return []
        }
        return try trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated().map { i, part in
            let entry = part.trimmingCharacters(in: .whitespaces)
            guard let n = Int(entry) else {
                throw ValidationError("\(option) '\(text)': entry \(i + 1), '\(entry)', is not a whole number")
            }
            guard allowed.contains(n) else {
                throw ValidationError("\(option) '\(text)': entry \(i + 1), \(n), is out of range: allowed \(allowed.lowerBound)…\(allowed.upperBound)")
            }
            return n
        }
    }
}

/// Upper (and lower) bounds of the command-line sizes. They keep each value sane on its own;
/// what a combination needs in memory is checked by each command's ``MemoryEstimate`` against
/// ``ResourceOptions``' limit.
enum OptionLimits {
    /// DDIM levels (`--steps` of the samplers): the schedule's largest timestep count.
    static let steps = 1...100_000
    /// Optimisation steps of sds / sjc and of training runs.
    static let iterations = 1...10_000_000
    /// `--views-per-step`.
    static let viewsPerStep = 1...256
    /// `--resample`.
    static let resample = 1...100
    /// `--samples-per-ray`.
    static let samplesPerRay = 4...1024
    /// `--display-size` (pixels per side).
    static let displaySize = 8...4096
    /// `--frames` of a turntable.
    static let frames = 1...3600
    /// `--cg-iterations`.
    static let cgIterations = 1...1000
    /// `--width` of a panorama (pixels).
    static let panoramaWidth = 8...65_536
    /// `--perspective-views` of a panorama.
    static let perspectiveViews = 0...360
    /// `--count` of image and sample runs.
    static let sampleCount = 1...4096
    /// `--count` of `dataset` (images or scenes).
    static let datasetCount = 1...10_000_000
    /// `--size` of `dataset` (pixels per side).
    static let datasetSize = 8...4096
    /// `--size` of `train` (pixels per side; also a multiple of 2^(levels − 1)).
    static let trainSize = 8...1024
    /// `--batch-size` of train, train-classifier and eval.
    static let batchSize = 1...4096
    /// Each `--channels` entry of `train` (multiples of 32: 8 GroupNorm groups, 32-wide attention heads).
    static let channels = 32...8192
    /// Number of `--channels` entries (resolution levels).
    static let levels = 1...8
    /// `--layers-per-block`.
    static let layersPerBlock = 1...16
    /// `--views` of `sample` and `--turntable` of `dataset`.
    static let views = 1...3600
    /// `--held-out` of train-classifier and `--references` of eval.
    static let heldOut = 1...1_000_000
}
