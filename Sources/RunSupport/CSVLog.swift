// A CSV of per-step numbers (`step,loss,lr,…`), flushed every row, resumable without duplicates.

import Foundation
import PNGIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends one row per step to a CSV file with a header, e.g. a training log:
///
/// ```text
/// step,loss,lr
/// 1,0.8125,0.0001
/// 2,0.7969,0.0001
/// ```
///
/// Each row goes to the file with one `write(2)` as soon as it is appended, so the log is up to
/// date if the run is killed. A resumed run reopens the log with `resumingAfter:` the checkpoint's
/// step: rows beyond that step (written after the checkpoint, before the crash) are dropped, so
/// the resumed run never duplicates them.
///
/// ```swift
/// let log = try CSVLog(url: out.appendingPathComponent("loss.csv"), columns: ["loss", "lr"],
///                      resumingAfter: checkpoint?.step)             // nil: start a fresh file
/// for step in (start + 1)...steps {
///     try log.append(step: step, values: [loss, lr])
/// }
/// let rows = try CSVLog.read(url)    // header and numbers, e.g. for the loss plot
/// ```
public final class CSVLog: @unchecked Sendable {
    /// The file written to.
    public let url: URL
    /// The header: `"step"` followed by the value columns.
    public let header: [String]

    private let lock = NSLock()
    private var fd: Int32

    /// Opens a CSV log with the header `step,<columns…>`.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - columns: the value columns after `step` (no commas, quotes or newlines in the names).
    ///   - resumingAfter: nil starts a new file (replacing any old one). A step number keeps the
    ///     existing file's rows up to and including that step, drops later ones (and any torn last
    ///     line), and appends after them; a missing file is created. The existing header must match.
    /// - Throws: ``CSVLogError`` when the file cannot be written, or its header differs on resume.
    public init(url: URL, columns: [String], resumingAfter step: Int? = nil) throws {
        precondition(!columns.contains { $0.contains(",") || $0.contains("\n") || $0.contains("\"") },
                     "CSV column names must not contain commas, quotes or newlines: \(columns)")
        self.url = url
        self.header = ["step"] + columns
        let headerLine = header.joined(separator: ",") + "\n"
        let path = url.path
        var kept = headerLine
        if let step, FileManager.default.fileExists(atPath: path) {
            let existing: String
            do { existing = try String(contentsOf: url, encoding: .utf8) } catch {
                throw CSVLogError(path: path, message: "cannot read the log to resume it: \(error.localizedDescription)")
            }
            kept = try CSVLog.rowsKept(in: existing, header: headerLine, upToStep: step, path: path)
        }
        // Rewrite atomically (a crash here leaves the old log), then append to it.
        do { try AtomicFile.writeFile(Array(kept.utf8), to: path) } catch {
            throw CSVLogError(path: path, message: error.message)
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw CSVLogError(path: path, message: String(cString: strerror(errno))) }
    }

    deinit { if fd >= 0 { closeDescriptor(fd) } }

    /// Appends one row: the step, then `values` in column order (shortest decimal that reads back
    /// exactly: `0.0312`, `1e-05`, `nan`).
    /// - Throws: ``CSVLogError`` on a write failure (disk full …).
    public func append(step: Int, values: [Double]) throws {
        try appendLine(step: step, fields: values.map { "\($0)" })
    }

    /// ``append(step:values:)`` for `Float` (or other floating-point) values, each printed in its
    /// own type's shortest form (`Float(0.1)` as `0.1`, not `0.10000000149011612`).
    public func append<Value: BinaryFloatingPoint & CustomStringConvertible>(step: Int, values: [Value]) throws {
        try appendLine(step: step, fields: values.map { "\($0)" })
    }

    /// Closes the file; later appends throw.
    public func close() {
        lock.lock(); defer { lock.unlock() }
        if fd >= 0 { closeDescriptor(fd); fd = -1 }
    }

    private func appendLine(step: Int, fields: [String]) throws {
        precondition(fields.count == header.count - 1,
                     "CSV row has \(fields.count) values for columns \(header.dropFirst().joined(separator: ","))")
        let bytes = Array((String(step) + (fields.isEmpty ? "" : ",") + fields.joined(separator: ",") + "\n").utf8)
        lock.lock(); defer { lock.unlock() }
        guard fd >= 0 else { throw CSVLogError(path: url.path, message: "the log is closed") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CSVLogError(path: url.path, message: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// The header plus the complete rows of `text` whose step is at most `step`.
    static func rowsKept(in text: String, header: String, upToStep step: Int, path: String) throws -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The last element is "" after a final newline, or a torn row (crash mid-write): drop either.
        lines.removeLast()
        guard let first = lines.first else { return header }
        guard first + "\n" == header else {
            throw CSVLogError(path: path, message: "its header '\(first)' differs from '\(header.dropLast())'; "
                + "use a new output folder or start without resuming")
        }
        var kept = header
        for line in lines.dropFirst() {
            let end = line.firstIndex(of: ",") ?? line.endIndex
            guard let rowStep = Int(line[..<end]) else { continue }
            if rowStep <= step { kept += line + "\n" }
        }
        return kept
    }

    /// Reads a CSV log: its header and its rows as numbers (unparsable fields become NaN).
    ///
    /// ```swift
    /// let (header, rows) = try CSVLog.read(url)    // ["step", "loss"], [[1, 0.81], [2, 0.79]]
    /// ```
    public static func read(_ url: URL) throws -> (header: [String], rows: [[Double]]) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CSVLogError(path: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        let lines = text.split(separator: "\n")
        guard let first = lines.first else { return ([], []) }
        let header = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.dropFirst().map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) ?? .nan }
        }
        return (header, rows)
    }
}

/// A CSV log that cannot be opened, resumed or written.
public struct CSVLogError: Error, CustomStringConvertible, Equatable {
    /// The log file.
    public let path: String
    /// What went wrong.
    public let message: String

    public var description: String { "CSV log '\(path)': \(message)" }
}

/// `close(2)`, named apart from ``CSVLog/close()``.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
