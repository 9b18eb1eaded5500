// Output folders: created with their parents, proved writable, clear errors; atomic writes.

import Foundation
import Testing
import RunSupport

@Test func prepareCreatesNestedFoldersAndLeavesNoProbe() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let url = try OutputFolder.prepare(scratch.path + "/runs/a/b")
    #expect(url.path == scratch.path + "/runs/a/b")
    #expect(url.hasDirectoryPath)
    var isFolder: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue)
    #expect(try FileManager.default.contentsOfDirectory(atPath: url.path).isEmpty, "the probe file is removed")
    // An existing folder is fine too, and its contents are kept.
    try Data("x".utf8).write(to: url.appendingPathComponent("keep.txt"))
    #expect(try OutputFolder.prepare(scratch.path + "/runs/a/b/") == url)
    #expect(try FileManager.default.contentsOfDirectory(atPath: url.path) == ["keep.txt"])
}

@Test func prepareRejectsAPathThatIsAFile() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    try Data("x".utf8).write(to: scratch.file("file"))
    let path = scratch.path + "/file"
    let message = thrownMessage { _ = try OutputFolder.prepare(path) }
    #expect(message == "cannot write to output folder '\(path)': it exists and is not a folder")
}

@Test func prepareRejectsAPathUnderAFile() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    try Data("x".utf8).write(to: scratch.file("file"))
    let path = scratch.path + "/file/out/run1"
    let message = thrownMessage { _ = try OutputFolder.prepare(path) }
    #expect(message == "cannot write to output folder '\(path)': '\(scratch.path)/file' is a file, not a folder")
    #expect(try scratch.contents() == ["file"])
}

@Test func prepareRejectsAnEmptyPath() {
    #expect(thrownMessage { _ = try OutputFolder.prepare("") } == "cannot write to output folder '': the path is empty")
}

@Test func prepareResolvesRelativePaths() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let before = FileManager.default.currentDirectoryPath
    // Relative to the working directory: compare against the absolute form.
    let relative = "runsupport-relative-\(UUID().uuidString)"
    let url = try OutputFolder.prepare(relative)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(url.path == URL(fileURLWithPath: before).appendingPathComponent(relative).standardizedFileURL.path)
}

@Test func atomicWriteReplacesWholeFilesAndReportsFailures() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let target = scratch.file("notes.txt")
    try OutputFolder.atomicWrite(data: Data("first".utf8), to: target)
    try OutputFolder.atomicWrite(data: Data("second".utf8), to: target)
    #expect(try String(contentsOf: target, encoding: .utf8) == "second")
    #expect(try scratch.contents() == ["notes.txt"], "no temporary files left")
    let missing = scratch.file("missing/notes.txt")
    let message = thrownMessage { try OutputFolder.atomicWrite(data: Data("x".utf8), to: missing) }
    #expect(message == "cannot write '\(missing.path)': No such file or directory")
}
