// Progress-bar formatting (pure functions), the smoothed rate, and what each mode writes
// (driven by a fake clock: no real timing).

import Foundation
import Testing
import RunSupport

@Test(arguments: [
    (0.0, "0:00"), (0.4, "0:00"), (7, "0:07"), (59.6, "1:00"), (65, "1:05"), (600, "10:00"),
    (3599, "59:59"), (3600, "1:00:00"), (7387, "2:03:07"), (36_000 + 61, "10:01:01"),
    (-1, "--:--"), (.nan, "--:--"), (.infinity, "--:--"),
])
func durationFormatting(seconds: Double, text: String) {
    #expect(ProgressBar.duration(seconds) == text)
}

@Test func extraValueFormatting() {
    #expect(ProgressBar.value(0.031234) == "0.03123")
    #expect(ProgressBar.value(3.2) == "3.2")
    #expect(ProgressBar.value(250) == "250")
    #expect(ProgressBar.value(-4) == "-4")
    #expect(ProgressBar.value(1e-4) == "0.0001")
    #expect(ProgressBar.value(3e-5) == "3e-05")
    #expect(ProgressBar.value(123_456.7) == "1.235e+05")
    #expect(ProgressBar.value(.nan) == "nan")
    #expect(ProgressBar.value(-.infinity) == "-inf")
}

@Test func lineShowsLabelStepsPercentTimesAndExtras() {
    let running = ProgressBar.line(label: "train", step: 50, total: 200, elapsed: 65, eta: 195,
                                   extra: [("loss", 0.0312), ("σ", 3.2)], barWidth: 0)
    #expect(running == "train  50/200   25%  elapsed 1:05  eta 3:15  loss 0.0312  σ 3.2")
    let done = ProgressBar.line(label: "train", step: 200, total: 200, elapsed: 7387, eta: nil,
                                extra: [], barWidth: 0)
    #expect(done == "train 200/200  100%  elapsed 2:03:07")
    let unknown = ProgressBar.line(label: "s", step: 0, total: 10, elapsed: 0, eta: .nan, extra: [], barWidth: 4)
    #expect(unknown == "s [░░░░]   0/10    0%  elapsed 0:00  eta --:--")
}

@Test func barFillsInProportionAndClamps() {
    #expect(ProgressBar.bar(fraction: 0.5, width: 10) == "[█████░░░░░]")
    #expect(ProgressBar.bar(fraction: 0.99, width: 10) == "[█████████░]")
    #expect(ProgressBar.bar(fraction: 1.7, width: 4) == "[████]")
    #expect(ProgressBar.bar(fraction: -1, width: 4) == "[░░░░]")
}

@Test func rateEstimatorFollowsTheRecentRate() throws {
    var rate = RateEstimator(startStep: 0, startTime: 0, smoothing: 0.5, minInterval: 1)
    #expect(rate.secondsRemaining(atStep: 0, total: 100) == nil)
    rate.observe(step: 1, time: 10)                      // slow first step: 10 s/step
    #expect(rate.secondsPerStep == 10)
    rate.observe(step: 2, time: 10.5)                    // under minInterval: ignored
    #expect(rate.secondsPerStep == 10)
    rate.observe(step: 11, time: 11)                     // 10 steps in 1 s → 0.1 s/step, averaged
    #expect(abs(try #require(rate.secondsPerStep) - 5.05) < 1e-12)
    for k in 1...30 { rate.observe(step: 11 + 10 * k, time: 11 + Double(k)) }   // steady 0.1 s/step
    let perStep = try #require(rate.secondsPerStep)
    #expect(abs(perStep - 0.1) < 1e-6, "the slow start has faded out: \(perStep)")
    #expect(abs(try #require(rate.secondsRemaining(atStep: 311, total: 411)) - 10) < 1e-4)
    #expect(rate.secondsRemaining(atStep: 500, total: 411) == 0)
}

/// A clock the test moves by hand, and a sink that keeps what was written.
private final class FakeTerminal: @unchecked Sendable {
    private let lock = NSLock()
    private var time = 0.0
    private var written = ""
    func advance(_ seconds: Double) { lock.withLock { time += seconds } }
    func now() -> Double { lock.withLock { time } }
    func write(_ text: String) { lock.withLock { written += text } }
    var output: String { lock.withLock { written } }
}

@Test func plainModePrintsAboutEveryFivePercentAndAFinalLine() {
    let terminal = FakeTerminal()
    let bar = ProgressBar("sampling", total: 100, mode: .plain,
                          clock: { terminal.now() }, sink: { terminal.write($0) })
    for step in 1...100 {
        terminal.advance(0.01)
        bar.update(step: step, extra: ["loss": 1 / Double(step)])
    }
    bar.finish()
    bar.update(step: 100)                               // ignored after finish
    let lines = terminal.output.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.last == "")                           // every line ends with a newline
    #expect(lines.count == 23, "the first step, 20 five-percent lines, the final line: \(lines)")
    #expect(lines[0] == "sampling   1/100    1%  elapsed 0:00  eta 0:01  loss 1")
    #expect(lines[1] == "sampling   5/100    5%  elapsed 0:00  eta 0:01  loss 0.2")
    #expect(lines[21] == "sampling 100/100  100%  elapsed 0:01  loss 0.01")
    #expect(!terminal.output.contains("\r"))
}

@Test func plainModeAlsoPrintsEveryTenSeconds() {
    let terminal = FakeTerminal()
    let bar = ProgressBar("train", total: 10_000, mode: .plain,
                          clock: { terminal.now() }, sink: { terminal.write($0) })
    for step in 1...60 {                                // 60 s, far below 5 %
        terminal.advance(1)
        bar.update(step: step)
    }
    let lines = terminal.output.split(separator: "\n")
    #expect(lines.count == 6, "\(lines)")
    #expect(lines.first?.hasPrefix("train     1/10000    0%  elapsed 0:01") == true)
}

@Test func interactiveModeRedrawsOneLineInPlace() {
    let terminal = FakeTerminal()
    let bar = ProgressBar("nerf", total: 4, mode: .interactive,
                          clock: { terminal.now() }, sink: { terminal.write($0) })
    terminal.advance(1); bar.update(step: 1)
    terminal.advance(0.01); bar.update(step: 2)        // within 0.1 s of the last draw: skipped
    terminal.advance(1); bar.log("checkpoint saved")
    terminal.advance(1); bar.update(step: 4)           // the last step is always drawn
    bar.finish()
    let out = terminal.output
    #expect(out.filter { $0 == "\n" }.count == 2, "newlines only after the log message and at the end")
    let draws = out.components(separatedBy: "\r").filter { $0.hasPrefix("nerf ") }
    #expect(draws.count == 4, "step 1, its redraw after the log, step 4, finish: \(draws)")
    #expect(draws[0].hasPrefix("nerf [█████░░░░░░░░░░░░░░░]  1/4   25%  elapsed 0:01  eta 0:03"))
    #expect(out.contains("\r\u{1B}[Kcheckpoint saved\n"))
    #expect(draws[3].hasPrefix("nerf [████████████████████]  4/4  100%  elapsed 0:03\u{1B}[K"))
    #expect(out.hasSuffix("\n"))
}

@Test func silentModeWritesNothing() {
    let terminal = FakeTerminal()
    let bar = ProgressBar("quiet", total: 3, mode: .silent, clock: { terminal.now() }, sink: { terminal.write($0) })
    for step in 1...3 { bar.update(step: step) }
    bar.log("hello")
    bar.finish()
    #expect(terminal.output.isEmpty)
}
