// Writes go through a temporary file and a rename: failures throw and leave nothing behind.

import Foundation
import Testing
@testable import PNGIO

private let image = noiseImage(width: 16, height: 8, channels: 3, seed: 11)

/// Whether `error` is a write error for `path` whose message contains `text`.
private func isWriteError(_ error: PNGError?, path: String, mentioning text: String) -> Bool {
    guard case let .write(p, message)? = error else { return false }
    return p == path && message.lowercased().contains(text.lowercased())
}

@Test func writingIntoMissingFolderThrows() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.path + "/missing/out.png"
    let error = pngError { try PNG.write(image, to: path) }
    #expect(isWriteError(error, path: path, mentioning: "no such file"), "\(String(describing: error))")
    #expect(try folder.contents().isEmpty)
}

@Test func writingUnderAFileThrows() throws {
    // The "folder" is a regular file: not writable as a folder, even for root.
    let folder = try ScratchFolder()
    defer { folder.remove() }
    try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path + "/file"))
    let path = folder.path + "/file/out.png"
    let error = pngError { try PNG.write(image, to: path) }
    #expect(isWriteError(error, path: path, mentioning: "not a directory"), "\(String(describing: error))")
    let apng = pngError { try APNG.write(frames: [image, image], delayMs: 50, to: path) }
    #expect(isWriteError(apng, path: path, mentioning: "not a directory"), "\(String(describing: apng))")
    #expect(try folder.contents() == ["file"])
}

@Test func failedRenameRemovesTheTemporaryFile() throws {
    // The destination is a non-empty folder: the temporary file is written, the rename fails.
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.path + "/out.png"
    try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
    let error = pngError { try PNG.write(image, to: path) }
    #expect(isWriteError(error, path: path, mentioning: "directory"), "\(String(describing: error))")
    #expect(try folder.contents() == ["out.png"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["inside"])
}

@Test func unencodableImageThrowsAndWritesNothing() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.path + "/empty.png"
    let error = pngError { try PNG.write(PNGImage(width: 0, height: 3, channels: 1), to: path) }
    guard case let .write(p, message)? = error else {
        Issue.record("no write error: \(String(describing: error))")
        return
    }
    #expect(p == path && !message.isEmpty)
    #expect(try folder.contents().isEmpty)
}

@Test func overwritesExistingFileWithoutLeftovers() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.path + "/out.png"
    try PNG.write(PNGImage(width: 2, height: 2, channels: 1, filling: 9), to: path)
    try PNG.write(image, to: path)
    #expect(try PNG.read(path) == image)
    #expect(try folder.contents() == ["out.png"])
    // Relative paths resolve their temporary file in the same folder too.
    #expect(AtomicFile.temporaryPath(for: "out.png").hasPrefix(".out.png.tmp-"))
    #expect(AtomicFile.temporaryPath(for: "/a/b/out.png").hasPrefix("/a/b/.out.png.tmp-"))
}
