// A progress line on stderr: redrawn in place on a terminal, periodic plain lines in logs.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shows the progress of a long loop on stderr: label, step/total, percentage, elapsed time,
/// ETA (from a smoothed rate) and optional extra fields such as the current loss.
///
/// On a terminal one line is redrawn in place (`\r`, at most 10 times a second); when stderr is
/// not a terminal (CI logs, `2> log.txt`) a plain line is printed every 5 % or every 10 s.
///
/// ```swift
/// let bar = ProgressBar("sampling", total: steps)
/// for step in 1...steps {
///     let loss = work()
///     bar.update(step: step, extra: ["loss": loss, "σ": sigma])
/// }
/// bar.finish()
/// // sampling [██████░░░░░░░░░░░░░░] 120/500  24%  elapsed 0:31  eta 1:39  loss 0.0312  σ 3.2
/// ```
///
/// The bar is safe to update from any thread (updates are serialised by a lock).
public final class ProgressBar: @unchecked Sendable {
    /// How the bar writes itself.
    public enum Mode: Sendable {
        /// `.interactive` when stderr is a terminal, `.plain` otherwise.
        case automatic
        /// One line redrawn in place with `\r` (terminals).
        case interactive
        /// A new line every 5 % or 10 s (logs).
        case plain
        /// Writes nothing (quiet runs, tests).
        case silent
    }

    /// The label at the start of the line ("sampling", "training").
    public let label: String
    /// The step count that means done.
    public let total: Int
    /// The resolved mode (never `.automatic`).
    public let mode: Mode

    private let lock = NSLock()
    private let clock: @Sendable () -> Double
    private let sink: @Sendable (String) -> Void
    private let startTime: Double
    private var rate: RateEstimator
    private var step: Int
    private var extra: [(String, Double)] = []
    private var lastDrawTime = -Double.infinity
    private var lastPlainBucket: Int
    private var lastLine = ""
    private var finished = false

    /// A bar for `total` steps writing to stderr.
    ///
    /// - Parameters:
    ///   - label: shown first on the line.
    ///   - total: the step number that means done (> 0).
    ///   - initialStep: the step a resumed run starts from; the rate ignores the steps before it.
    ///   - mode: `.automatic` picks `.interactive` on a terminal, `.plain` otherwise.
    public convenience init(_ label: String, total: Int, initialStep: Int = 0, mode: Mode = .automatic) {
        self.init(label, total: total, initialStep: initialStep, mode: mode,
                  clock: monotonicSeconds, sink: writeToStandardError)
    }

    /// A bar with its own clock (seconds) and output, for tests and for logging elsewhere.
    ///
    /// ```swift
    /// let bar = ProgressBar("t", total: 10, mode: .plain, clock: { 0 }, sink: { print($0, terminator: "") })
    /// ```
    public init(_ label: String, total: Int, initialStep: Int = 0, mode: Mode,
                clock: @escaping @Sendable () -> Double, sink: @escaping @Sendable (String) -> Void) {
        precondition(total > 0, "a progress bar needs total > 0, got \(total)")
        self.label = label
        self.total = total
        switch mode {
        case .automatic: self.mode = isatty(STDERR_FILENO) != 0 ? .interactive : .plain
        default: self.mode = mode
        }
        self.clock = clock
        self.sink = sink
        self.step = initialStep
        startTime = clock()
        rate = RateEstimator(startStep: initialStep, startTime: startTime)
        lastPlainBucket = ProgressBar.plainBucket(step: initialStep, total: total)
    }

    /// Records that `step` steps (of `total`) are done, with extra fields to show after the ETA.
    ///
    /// ```swift
    /// bar.update(step: 42, extra: ["loss": 0.0312, "lr": 1e-4])   // … loss 0.0312  lr 0.0001
    /// ```
    public func update(step: Int, extra: KeyValuePairs<String, Double> = [:]) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        let now = clock()
        self.step = step
        self.extra = extra.map { ($0.key, $0.value) }
        rate.observe(step: step, time: now)
        switch mode {
        case .interactive:
            guard now - lastDrawTime >= 0.1 || step >= total else { return }
            lastDrawTime = now
            redraw(now: now, eta: rate.secondsRemaining(atStep: step, total: total))
        case .plain:
            let bucket = ProgressBar.plainBucket(step: step, total: total)
            guard bucket > lastPlainBucket || now - lastDrawTime >= 10 else { return }
            lastPlainBucket = bucket
            lastDrawTime = now
            sink(currentLine(now: now, eta: rate.secondsRemaining(atStep: step, total: total), barWidth: 0) + "\n")
        case .silent, .automatic:
            return
        }
    }

    /// Prints a message on its own line without breaking the bar (the bar is redrawn below it).
    ///
    /// ```swift
    /// bar.log("saved checkpoint at step 1000")
    /// ```
    public func log(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        switch mode {
        case .interactive:
            sink("\r\u{1B}[K" + message + "\n")
            if !finished && !lastLine.isEmpty { sink(lastLine) }
        case .plain: sink(message + "\n")
        case .silent, .automatic: return
        }
    }

    /// Draws the final line (elapsed time, no ETA) and ends it with a newline. Later updates are ignored.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        let now = clock()
        switch mode {
        case .interactive:
            redraw(now: now, eta: nil)
            sink("\n")
        case .plain: sink(currentLine(now: now, eta: nil, barWidth: 0) + "\n")
        case .silent, .automatic: return
        }
    }

    /// Seconds since the bar was made.
    public var elapsedSeconds: Double {
        lock.lock(); defer { lock.unlock() }
        return clock() - startTime
    }

    // MARK: drawing

    private func redraw(now: Double, eta: Double?) {
        let columns = terminalColumns()
        let line = ProgressBar.fitted(currentLine(now: now, eta: eta, barWidth: 20), columns: columns)
        lastLine = "\r" + line + "\u{1B}[K"
        sink(lastLine)
    }

    private func currentLine(now: Double, eta: Double?, barWidth: Int) -> String {
        ProgressBar.line(label: label, step: step, total: total, elapsed: now - startTime,
                         eta: eta, extra: extra, barWidth: barWidth)
    }

    /// Which 5 % slice of the run `step` is in (plain mode prints once per slice).
    static func plainBucket(step: Int, total: Int) -> Int { max(0, step) * 20 / total }

    // MARK: formatting (pure)

    /// The whole progress line; `eta` nil means finished (no ETA shown); `barWidth` 0 means no bar.
    ///
    /// ```swift
    /// ProgressBar.line(label: "train", step: 50, total: 200, elapsed: 65, eta: 195,
    ///                  extra: [("loss", 0.0312)], barWidth: 0)
    /// // "train 50/200  25%  elapsed 1:05  eta 3:15  loss 0.0312"
    /// ```
    public static func line(label: String, step: Int, total: Int, elapsed: Double, eta: Double?,
                            extra: [(String, Double)], barWidth: Int) -> String {
        var parts = [String]()
        if barWidth > 0 { parts.append(bar(fraction: Double(step) / Double(total), width: barWidth)) }
        let digits = String(total).count
        let stepText = String(step)
        parts.append(String(repeating: " ", count: max(0, digits - stepText.count)) + stepText + "/" + String(total))
        let percent = total > 0 ? min(100, max(0, step * 100 / total)) : 100
        let percentText = String(percent) + "%"
        parts.append(String(repeating: " ", count: 4 - percentText.count) + percentText)
        parts.append("elapsed " + duration(elapsed))
        if let eta { parts.append("eta " + duration(eta)) }
        for (name, x) in extra { parts.append(name + " " + value(x)) }
        return label + " " + parts.joined(separator: "  ")
    }

    /// A duration as `m:ss` under an hour, `h:mm:ss` from an hour on; `--:--` when unknown
    /// (NaN, infinite or negative).
    ///
    /// ```swift
    /// ProgressBar.duration(65)      // "1:05"
    /// ProgressBar.duration(7387)    // "2:03:07"
    /// ProgressBar.duration(.nan)    // "--:--"
    /// ```
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "--:--" }
        let whole = Int(seconds.rounded())
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h == 0 { return "\(m):\(ss)" }
        return "\(h):" + (m < 10 ? "0\(m)" : "\(m)") + ":" + ss
    }

    /// An extra field's value: integers as integers, others with 4 significant digits.
    ///
    /// ```swift
    /// ProgressBar.value(0.031234)   // "0.03123"
    /// ProgressBar.value(250)        // "250"
    /// ProgressBar.value(3e-5)       // "3e-05"
    /// ```
    public static func value(_ x: Double) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e7 { return String(Int(x)) }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.4g", x)
    }

    /// A bar of `width` cells, `fraction` of them full: `[██████░░░░]`.
    public static func bar(fraction: Double, width: Int) -> String {
        let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let full = Int((f * Double(width)).rounded(.down))
        return "[" + String(repeating: "█", count: full) + String(repeating: "░", count: width - full) + "]"
    }

    /// `line` cut to fit a terminal `columns` wide (one column spare so the cursor never wraps).
    static func fitted(_ line: String, columns: Int) -> String {
        guard columns > 1, line.count >= columns else { return line }
        return String(line.prefix(columns - 1))
    }
}

/// Estimates seconds per step from (step, time) observations with an exponential moving
/// average over intervals of at least `minInterval` seconds, so the ETA follows the recent rate
/// (a slow first step or a change of phase fades out) without jittering on every update.
///
/// ```swift
/// var rate = RateEstimator(startStep: 0, startTime: 0)
/// rate.observe(step: 10, time: 5)                       // 0.5 s per step
/// rate.secondsRemaining(atStep: 10, total: 100)         // 45
/// ```
public struct RateEstimator: Sendable {
    /// Weight of the newest interval in the moving average.
    public let smoothing: Double
    /// Shortest interval (seconds) that counts as one observation.
    public let minInterval: Double
    /// The smoothed seconds per step, nil until a step has been observed.
    public private(set) var secondsPerStep: Double?
    private var lastStep: Int
    private var lastTime: Double

    /// An estimator that starts counting at `startStep`, `startTime`.
    public init(startStep: Int, startTime: Double, smoothing: Double = 0.3, minInterval: Double = 0.5) {
        self.smoothing = smoothing
        self.minInterval = minInterval
        lastStep = startStep
        lastTime = startTime
    }

    /// Records that `step` steps are done at `time` (seconds, any origin, same clock as the start).
    public mutating func observe(step: Int, time: Double) {
        let steps = step - lastStep, seconds = time - lastTime
        guard steps > 0, seconds >= 0 else { return }
        // The first observation is taken whatever its length, later ones once minInterval has passed.
        guard secondsPerStep == nil || seconds >= minInterval else { return }
        let current = seconds / Double(steps)
        if let old = secondsPerStep {
            secondsPerStep = smoothing * current + (1 - smoothing) * old
        } else {
            secondsPerStep = current
        }
        lastStep = step
        lastTime = time
    }

    /// Seconds left for the steps from `step` to `total` at the smoothed rate; nil before any estimate.
    public func secondsRemaining(atStep step: Int, total: Int) -> Double? {
        guard let secondsPerStep else { return nil }
        return Double(max(0, total - step)) * secondsPerStep
    }
}

/// Seconds on the monotonic clock.
@Sendable private func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Writes all of `text` to file descriptor 2 (unbuffered).
@Sendable private func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 { if errno == EINTR { continue } else { return } }
        offset += n
    }
}

/// Width of the terminal on stderr, or 100 when unknown.
private func terminalColumns() -> Int {
    var size = winsize()
    if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let text = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(text), n > 0 { return n }
    return 100
}
