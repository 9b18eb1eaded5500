// Whole-file writes that never leave a half-written file behind: write a temporary file in the
// destination's folder, flush it, then rename it over the destination (atomic on POSIX).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file atomic writes, for any module that writes outputs (manifests, CSV rewrites, PNGs).
///
/// ```swift
/// try AtomicFile.writeFile(Array("{}".utf8), to: "out/manifest.json")
/// // either the old file or the complete new one is at that path, never a partial one
/// ```
public enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary sibling file, `fsync(2)` and `rename(2)`.
    /// On any failure the temporary file is removed and the destination is left untouched.
    ///
    /// ```swift
    /// do { try AtomicFile.writeFile([1, 2, 3], to: "/no/such/folder/x.bin") }
    /// catch { print(error) }   // cannot write '/no/such/folder/x.bin': No such file or directory
    /// ```
    /// - Throws: ``AtomicFileError`` with the system's message.
    public static func writeFile(_ bytes: [UInt8], to path: String) throws(AtomicFileError) {
        if let failure = writeReportingFailure(bytes, to: path) {
            throw AtomicFileError(path: path, message: failure)
        }
    }

    /// ``writeFile(_:to:)`` for the PNG writers.
    /// - Throws: ``PNGError/write(path:message:)`` with the system's message.
    static func write(_ bytes: [UInt8], to path: String) throws {
        if let failure = writeReportingFailure(bytes, to: path) {
            throw PNGError.write(path: path, message: failure)
        }
    }

    /// The atomic write itself; returns the system's message on failure, nil on success.
    private static func writeReportingFailure(_ bytes: [UInt8], to path: String) -> String? {
        let temporary = temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return systemMessage() }
        var failure: String?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = systemMessage(); return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = systemMessage() }
        if close(fd) != 0, failure == nil { failure = systemMessage() }
        if failure == nil, rename(temporary, path) != 0 { failure = systemMessage() }
        if failure != nil { unlink(temporary) }
        return failure
    }

    /// `dir/.name.tmp-<pid>-<random>`: same folder as `path`, so the rename never crosses devices.
    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(folder).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// `write(2)`, named apart from ``write(_:to:)``.
    private static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }

    /// The text of the current `errno`.
    private static func systemMessage() -> String { String(cString: strerror(errno)) }
}

/// A failed ``AtomicFile/writeFile(_:to:)``: the destination path and the system's message.
public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    /// The file that could not be written.
    public let path: String
    /// The system's reason (`strerror`), e.g. "No such file or directory".
    public let message: String

    public var description: String { "cannot write '\(path)': \(message)" }
}
