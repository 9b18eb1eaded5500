// CSV logs: header, one flushed row per append, resume that drops rows beyond the checkpoint.

import Foundation
import Testing
import RunSupport

private func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

@Test func csvLogWritesHeaderAndRowsImmediately() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let url = scratch.file("loss.csv")
    let log = try CSVLog(url: url, columns: ["loss", "lr"])
    #expect(try text(url) == "step,loss,lr\n")
    try log.append(step: 1, values: [0.8125, 1e-4])
    #expect(try text(url) == "step,loss,lr\n1,0.8125,0.0001\n", "visible before close: flushed per row")
    try log.append(step: 2, values: [Float(0.1), Float(1e-5)])
    try log.append(step: 3, values: [Double.nan, 2e-5])
    log.close()
    #expect(try text(url) == "step,loss,lr\n1,0.8125,0.0001\n2,0.1,1e-05\n3,nan,2e-05\n")
    #expect(thrownMessage { try log.append(step: 4, values: [1, 1]) } == "CSV log '\(url.path)': the log is closed")
    let (header, rows) = try CSVLog.read(url)
    #expect(header == ["step", "loss", "lr"])
    #expect(rows.count == 3 && rows[0] == [1, 0.8125, 0.0001] && rows[2][1].isNaN)
}

@Test func csvLogStartsFreshWithoutResume() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let url = scratch.file("loss.csv")
    try "step,loss\n1,0.5\n".write(to: url, atomically: false, encoding: .utf8)
    _ = try CSVLog(url: url, columns: ["loss"])
    #expect(try text(url) == "step,loss\n")
}

@Test func csvLogResumeDropsRowsBeyondTheCheckpointAndTornLines() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let url = scratch.file("loss.csv")
    do {
        let log = try CSVLog(url: url, columns: ["loss"])
        for step in 1...5 { try log.append(step: step, values: [Double(step) / 10]) }
    }
    // A crash mid-write leaves a torn last row.
    let handle = try FileHandle(forWritingTo: url)
    handle.seekToEndOfFile()
    handle.write(Data("6,0.".utf8))
    handle.closeFile()

    let resumed = try CSVLog(url: url, columns: ["loss"], resumingAfter: 3)   // checkpoint at step 3
    #expect(try text(url) == "step,loss\n1,0.1\n2,0.2\n3,0.3\n")
    try resumed.append(step: 4, values: [0.25])
    #expect(try text(url) == "step,loss\n1,0.1\n2,0.2\n3,0.3\n4,0.25\n")
    #expect(try scratch.contents() == ["loss.csv"], "no temporary files left")

    // Resuming after the last step keeps everything; a missing file is created with its header.
    _ = try CSVLog(url: url, columns: ["loss"], resumingAfter: 100)
    #expect(try text(url) == "step,loss\n1,0.1\n2,0.2\n3,0.3\n4,0.25\n")
    let fresh = scratch.file("new.csv")
    _ = try CSVLog(url: fresh, columns: ["loss"], resumingAfter: 10)
    #expect(try text(fresh) == "step,loss\n")
}

@Test func csvLogResumeRefusesADifferentHeader() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let url = scratch.file("loss.csv")
    try "step,loss\n1,0.5\n".write(to: url, atomically: false, encoding: .utf8)
    let message = thrownMessage { _ = try CSVLog(url: url, columns: ["loss", "lr"], resumingAfter: 1) }
    #expect(message?.hasPrefix("CSV log '\(url.path)': its header 'step,loss' differs from 'step,loss,lr'") == true,
            "\(message ?? "no error")")
    #expect(try text(url) == "step,loss\n1,0.5\n", "left untouched")
}

@Test func csvLogInMissingFolderFailsClearly() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let url = scratch.file("nope/loss.csv")
    #expect(thrownMessage { _ = try CSVLog(url: url, columns: ["loss"]) }
            == "CSV log '\(url.path)': No such file or directory")
}
