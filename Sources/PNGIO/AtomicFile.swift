// Whole-file writes that never leave a half-written file behind: write a temporary file in the
// destination's folder, flush it, then rename it over the destination (atomic on POSIX).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary sibling file and `rename(2)`.
    /// On any failure the temporary file is removed and the destination is left untouched.
    /// - Throws: ``PNGError/write(path:message:)`` with the system's message.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PNGError.write(path: path, message: systemMessage()) }
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
        if let failure {
            unlink(temporary)
            throw PNGError.write(path: path, message: failure)
        }
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
