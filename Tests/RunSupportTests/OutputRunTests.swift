// Output runs: one run per folder (lock), stale temporaries removed, staged outputs moved into
// place so a folder holds one run's results; memory limits and estimates.

import Foundation
import Testing
import RunSupport

/// The PID of a process that has exited (a child that ran `/bin/true` and was reaped).
func deadPID() throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/true")
    try p.run()
    p.waitUntilExit()
    return p.processIdentifier
}

/// Writes `text` to `name` in `folder`, creating parent folders.
func put(_ text: String, _ name: String, in folder: URL) throws {
    let url = folder.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

/// A fake run's manifest listing `outputs`.
func manifestText(_ outputs: [String]) -> String {
    "{\"outputs\": [" + outputs.map { "\"\($0)\"" }.joined(separator: ", ") + "]}"
}

/// The non-hidden files under `folder`, as sorted relative paths.
func visibleFiles(_ folder: URL) -> [String] {
    let e = FileManager.default.enumerator(atPath: folder.path)
    var files: [String] = []
    while let p = e?.nextObject() as? String {
        guard !p.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent(p).path, isDirectory: &isFolder), !isFolder.boolValue {
            files.append(p)
        }
    }
    return files.sorted()
}

@Suite struct OutputRunTests {
    /// Eight runs start into one folder at the same time: exactly one gets it, every other fails
    /// at once naming the holder's PID.
    @Test func concurrentRunsIntoOneFolderGetItOnce() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        let path = scratch.path + "/out"
        let lock = NSLock()
        nonisolated(unsafe) var winners: [OutputRun] = []
        nonisolated(unsafe) var messages: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do {
                let run = try OutputRun.begin(path, staged: true)
                lock.withLock { winners.append(run) }
            } catch {
                lock.withLock { messages.append("\(error)") }
            }
        }
        #expect(winners.count == 1)
        #expect(messages.count == 7)
        for m in messages {
            #expect(m.hasPrefix("cannot write to output folder '\(path)': another diffrep run (PID \(getpid())) is writing to it"), "\(m)")
        }
        winners.forEach { $0.end() }
        let again = try OutputRun.begin(path, staged: false)    // free once the holder ends
        again.end()
    }

    /// A lock file left by a process that died is taken over; the file then names this process.
    @Test func lockFileOfADeadProcessIsTakenOver() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        let dead = try deadPID()
        try put("\(dead)\n", OutputLock.fileName, in: scratch.url)
        let run = try OutputRun.begin(scratch.path, staged: false)
        let text = try String(contentsOf: scratch.file(OutputLock.fileName), encoding: .utf8)
        #expect(text == "\(getpid())\n")
        run.end()
    }

    /// Temporaries of dead processes (a killed train's `.checkpoint.tmp-PID/`, a killed run's
    /// staging folder, atomic-write and safetensors temporaries) are removed by the next run;
    /// those of live processes, the interrupted-swap `.checkpoint.old` and outputs stay.
    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        let dead = try deadPID()
        let stale = [".checkpoint.tmp-\(dead)", ".staging-\(dead)-77", ".manifest.json.tmp-\(dead)-12345",
                     ".nerf.safetensors.\(UUID().uuidString).tmp"]
        for name in stale { try put("x", name + "/inside", in: scratch.url) }
        let kept = [".checkpoint.old", ".checkpoint.tmp-1", "checkpoint", "image_00.png", ".notes.tmp-x"]
        for name in kept { try put("x", name + "/inside", in: scratch.url) }
        let run = try OutputRun.begin(scratch.path, staged: false)
        run.end()
        #expect(try scratch.contents() == (kept + [OutputLock.fileName]).sorted())
    }

    @Test func temporaryNamesAreRecognised() {
        #expect(StaleTemporaries.writer(ofTemporary: ".checkpoint.tmp-42") == .some(42))
        #expect(StaleTemporaries.writer(ofTemporary: ".a.png.tmp-42-3000000000") == .some(42))
        #expect(StaleTemporaries.writer(ofTemporary: ".staging-42-1") == .some(42))
        #expect(StaleTemporaries.writer(ofTemporary: ".x.\(UUID().uuidString).tmp") == .some(nil))
        #expect(StaleTemporaries.writer(ofTemporary: "checkpoint.tmp-42") == nil)
        #expect(StaleTemporaries.writer(ofTemporary: ".checkpoint.old") == nil)
        #expect(StaleTemporaries.writer(ofTemporary: ".a.tmp-x") == nil)
    }

    /// A rerun with fewer images and frames leaves only its own outputs (and files no manifest
    /// listed, like a user's notes) in the folder.
    @Test func aRerunWithFewerOutputsLeavesNoStaleFiles() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        try fakeRun(in: scratch.path, files: ["image_00.png", "image_01.png", "image_02.png", "turntable/frame_000.png",
                                              "turntable/frame_001.png", "turntable/frame_002.png"],
                    outputs: ["image_00.png", "image_01.png", "image_02.png", "turntable/"], tag: "first")
        try put("mine", "notes.txt", in: scratch.url)
        try fakeRun(in: scratch.path, files: ["image_00.png", "turntable/frame_000.png"],
                    outputs: ["image_00.png", "turntable/"], tag: "second")
        #expect(visibleFiles(scratch.url) == ["image_00.png", "manifest.json", "notes.txt", "turntable/frame_000.png"])
        #expect(try String(contentsOf: scratch.file("image_00.png"), encoding: .utf8) == "second")
        #expect(try scratch.contents().filter { $0.hasPrefix(".staging") }.isEmpty)
    }

    /// A run that fails before its commit (its staging discarded by `end`), or is killed before
    /// it (its staging left for the next run to remove), leaves the previous run's results whole.
    @Test func aRunStoppedBeforeTheMoveLeavesThePreviousResults() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        try fakeRun(in: scratch.path, files: ["image_00.png", "image_01.png"], outputs: ["image_00.png", "image_01.png"], tag: "first")
        let before = visibleFiles(scratch.url)
        // Fails before the commit.
        let failing = try OutputRun.begin(scratch.path, staged: true)
        try put("second", "image_00.png", in: failing.staging!)
        try put(manifestText(["image_00.png"]), "manifest.json", in: failing.staging!)
        failing.end()
        #expect(visibleFiles(scratch.url) == before)
        #expect(try String(contentsOf: scratch.file("image_00.png"), encoding: .utf8) == "first")
        // Killed before the commit: what it leaves is a staging folder of a dead process.
        let dead = try deadPID()
        try put("third", ".staging-\(dead)-5/image_00.png", in: scratch.url)
        #expect(visibleFiles(scratch.url) == before)
        #expect(try String(contentsOf: scratch.file("manifest.json"), encoding: .utf8) == manifestText(["image_00.png", "image_01.png"]))
        let next = try OutputRun.begin(scratch.path, staged: false)
        next.end()
        #expect(try scratch.contents().filter { $0.hasPrefix(".staging") }.isEmpty)
    }

    /// A complete staged run writing `files` (content `tag`) and a manifest listing `outputs`.
    func fakeRun(in path: String, files: [String], outputs: [String], tag: String) throws {
        let run = try OutputRun.begin(path, staged: true)
        defer { run.end() }
        for f in files { try put(tag, f, in: try #require(run.staging)) }
        try put(manifestText(outputs), OutputRun.manifestName, in: try #require(run.staging))
        try run.commit(outputs: outputs)
    }
}

@Suite struct MemoryBudgetTests {
    @Test func sizesAreRead() throws {
        #expect(try MemoryLimit(parsing: "512M", option: "--max-memory").bytes == 512 * 1024 * 1024)
        #expect(try MemoryLimit(parsing: "1.5g", option: "--max-memory").bytes == 1.5 * 1024 * 1024 * 1024)
        #expect(try MemoryLimit(parsing: "2TiB", option: "--max-memory").bytes == 2 * pow(1024, 4))
        #expect(try MemoryLimit(parsing: "4096", option: "--max-memory").bytes == 4096)
        for bad in ["", "banana", "-1G", "0", "nanG", "12Q"] {
            #expect(throws: MemoryLimitError(option: "--max-memory", text: bad)) { try MemoryLimit(parsing: bad, option: "--max-memory") }
        }
    }

    @Test func theDefaultIsAShareOfPhysicalMemory() {
        #expect(MemoryLimit.default.bytes == Double(ProcessInfo.processInfo.physicalMemory) * MemoryLimit.defaultFraction)
        #expect(MemoryLimit.default.description.hasSuffix("(75% of physical memory)"))
    }

    /// An estimate of terabytes is refused with the total, its largest part and the limit.
    @Test func anEstimateAboveTheLimitIsRefused() throws {
        var e = MemoryEstimate()
        e.add("turntable renders", floats: 4096.0 * 4096 * 1024 * 16)
        e.add("field", bytes: 1024)
        let limit = MemoryLimit(bytes: 16 * pow(1024, 3), source: "--max-memory 16G")
        let message = thrownMessage { try e.check(against: limit) }
        #expect(message == "this run needs about 1.0 TB of memory (turntable renders 1.0 TB, field 1.0 KB), more than the limit of 16 GB (--max-memory 16G); use smaller sizes, or raise the limit with --max-memory")
        try e.check(against: MemoryLimit(bytes: 2 * pow(1024, 4), source: "--max-memory 2T"))
    }
}
