// The `--out DIR` folder: created if missing, proved writable before a long run starts.

import Foundation
import PNGIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The output folder of a run (`--out DIR`).
///
/// Call ``prepare(_:)`` before any long work, so a typo or a read-only disk fails in the first
/// second with a clear message instead of after an hour of sampling. Write every output with
/// ``atomicWrite(data:to:)`` (or `PNG.write`, which is atomic too): a crash never leaves a
/// half-written file.
///
/// ```swift
/// let out = try OutputFolder.prepare(options.out)            // creates out/ and out/a/b as needed
/// try OutputFolder.atomicWrite(data: Data("hello".utf8), to: out.appendingPathComponent("note.txt"))
/// try PNG.write(image, to: out.appendingPathComponent("sample.png").path)
/// ```
public enum OutputFolder {
    /// Creates the folder at `path` (with intermediate folders) if missing, and checks that it is
    /// writable by creating and removing a probe file in it.
    ///
    /// - Returns: the folder's absolute file URL.
    /// - Throws: ``OutputFolderError`` — `cannot write to output folder 'X': <reason>` — when the
    ///   path is empty, names a file, lies under a file, or cannot be created or written.
    public static func prepare(_ path: String) throws(OutputFolderError) -> URL {
        guard !path.isEmpty else { throw OutputFolderError(path: path, reason: "the path is empty") }
        let url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        let absolute = url.path
        try createFolders(absolute, asked: path)
        try probe(absolute, asked: path)
        return url
    }

    /// Writes `data` to `url` through a temporary file in the same folder and a rename: the file
    /// is either the old one or the complete new one, never partial.
    ///
    /// ```swift
    /// try OutputFolder.atomicWrite(data: try JSONEncoder().encode(stats), to: out.appendingPathComponent("stats.json"))
    /// ```
    /// - Throws: `AtomicFileError` (`cannot write '<path>': <reason>`).
    public static func atomicWrite(data: Data, to url: URL) throws {
        try AtomicFile.writeFile([UInt8](data), to: url.path)
    }

    /// `mkdir -p`, with the failing component's reason.
    private static func createFolders(_ absolute: String, asked: String) throws(OutputFolderError) {
        var prefix = ""
        for component in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    let what = prefix == absolute ? "it exists and is not a folder"
                                                  : "'\(prefix)' is a file, not a folder"
                    throw OutputFolderError(path: asked, reason: what)
                }
                continue
            }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                let reason = systemMessage()
                throw OutputFolderError(path: asked, reason: prefix == absolute ? reason : "creating '\(prefix)': \(reason)")
            }
        }
    }

    /// Creates and removes `.diffrep-write-probe-<pid>-<random>` in the folder.
    private static func probe(_ absolute: String, asked: String) throws(OutputFolderError) {
        let name = absolute + "/.diffrep-write-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputFolderError(path: asked, reason: systemMessage()) }
        close(fd)
        guard unlink(name) == 0 else { throw OutputFolderError(path: asked, reason: "removing a probe file: " + systemMessage()) }
    }

    private static func systemMessage() -> String { String(cString: strerror(errno)) }
}

/// The output folder cannot be used; `description` is the message for the user.
///
/// ```swift
/// print(error)   // cannot write to output folder 'runs/a': 'runs' is a file, not a folder
/// ```
public struct OutputFolderError: Error, CustomStringConvertible, Equatable {
    /// The path as the user gave it.
    public let path: String
    /// Why it cannot be used.
    public let reason: String

    public var description: String { "cannot write to output folder '\(path)': \(reason)" }
}
