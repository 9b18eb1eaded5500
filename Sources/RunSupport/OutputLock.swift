// An exclusive claim on an output folder: `flock(2)` on `DIR/.diffrep.lock`, holder's PID inside.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive lock of one run on its output folder, so two runs never interleave their files.
///
/// The lock is a `flock(2)` on `DIR/.diffrep.lock`, which holds the holder's PID for messages.
/// The kernel releases it when the holder exits, however it exits, so a lock file left by a
/// dead process is simply taken over; the file itself stays (removing it would let a third run
/// lock a file that a fourth run no longer sees).
///
/// ```swift
/// let lock = try OutputLock.acquire(folder, asked: "out/nerf")
/// defer { lock.release() }
/// // a second acquire of the same folder, from this or any process, throws at once:
/// // cannot write to output folder 'out/nerf': another diffrep run (PID 4242) is writing to it; …
/// ```
public final class OutputLock: @unchecked Sendable {
    /// The lock file's name inside the output folder.
    public static let fileName = ".diffrep.lock"
    /// The folder this lock holds.
    public let folder: URL
    private var descriptor: Int32

    private init(folder: URL, descriptor: Int32) {
        self.folder = folder
        self.descriptor = descriptor
    }

    /// Locks `folder` (which must exist) for this run, without waiting.
    ///
    /// - Parameter asked: the folder as the user gave it, for the message.
    /// - Throws: ``OutputFolderError`` naming the holder's PID when another run holds the folder,
    ///   or the system's reason when the lock file cannot be opened.
    public static func acquire(_ folder: URL, asked: String) throws(OutputFolderError) -> OutputLock {
        let path = folder.appendingPathComponent(fileName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw OutputFolderError(path: asked, reason: "cannot open its lock file '\(path)': " + String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let holder = failure == EWOULDBLOCK ? livePID(fd) : nil
            close(fd)
            if failure == EWOULDBLOCK {
                let who = holder.map { "another diffrep run (PID \($0))" } ?? "another process"
                throw OutputFolderError(path: asked, reason: "\(who) is writing to it (lock file '\(path)'); wait for it to finish or choose another --out")
            }
            throw OutputFolderError(path: asked, reason: "cannot lock '\(path)': " + String(cString: strerror(failure)))
        }
        // Write first, then cut to length: the file never reads empty while held (a stale PID
        // may show for an instant, which `livePID` waits out).
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        _ = ftruncate(fd, off_t(text.count))
        return OutputLock(folder: folder, descriptor: fd)
    }

    /// The PID of the live holder of a lock file, waiting up to 0.2 s for a holder that has just
    /// taken the lock to write it (nil when none is written by then).
    static func livePID(_ fd: Int32) -> Int32? {
        for attempt in 0..<40 {
            if let pid = readPID(fd), kill(pid, 0) == 0 || errno == EPERM { return pid }
            if attempt < 39 { usleep(5_000) }
        }
        return nil
    }

    /// The PID written in a lock file (nil when empty or unreadable).
    static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Releases the lock (also done when the lock is deallocated or the process exits).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)            // no holder named any more
        close(descriptor)                       // closing the only descriptor releases the flock
        descriptor = -1
    }

    deinit { release() }
}
