// Temporary files and folders that a killed run left in an output folder, and their removal.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporaries a run writes beside its outputs, recognised by name, so that those of a run
/// that was killed can be removed by the next run into the folder.
///
/// Names recognised (`PID` is the writer's process id):
/// - `.NAME.tmp-PID` — a checkpoint folder being written (`DenoiserTrainer.saveCheckpoint`);
/// - `.NAME.tmp-PID-RANDOM` — an atomic file write (`AtomicFile`);
/// - `.staging-PID-RANDOM` — a run's outputs before they are moved into place (``OutputRun``);
/// - `.NAME.UUID.tmp` — a safetensors write (no PID: stale whenever the folder is locked by us).
///
/// ```swift
/// let removed = StaleTemporaries.remove(in: folder)   // [".checkpoint.tmp-4242"] if PID 4242 is gone
/// ```
public enum StaleTemporaries {
    /// What a name says about its writer: nil for a name that is no temporary, `.some(nil)` for a
    /// temporary whose name holds no PID, `.some(pid)` otherwise.
    public static func writer(ofTemporary name: String) -> Int32?? {
        guard name.hasPrefix(".") else { return nil }
        if name.hasPrefix(".staging-") {
            let rest = name.dropFirst(".staging-".count)
            return Int32(rest.split(separator: "-").first ?? "").map { .some($0) }
        }
        if let range = name.range(of: ".tmp-", options: .backwards) {
            let parts = name[range.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let pid = Int32(parts[0]),
                  parts.count == 1 || UInt32(parts[1]) != nil else { return nil }
            return .some(pid)
        }
        if name.hasSuffix(".tmp"), name.count > 41 {       // .NAME.<36-character UUID>.tmp
            let uuid = name.dropLast(4).suffix(36)
            if UUID(uuidString: String(uuid)) != nil { return .some(nil) }
        }
        return nil
    }

    /// Whether a process with this id is running (`kill(pid, 0)`: alive unless ESRCH).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Removes the temporaries directly inside `folder` whose writer is no longer running, or that
    /// name no writer; call it only while holding the folder's ``OutputLock``, so no live run of
    /// this tool is writing them. Returns the names removed.
    @discardableResult
    public static func remove(in folder: URL) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let writer = writer(ofTemporary: name) else { continue }
            if let pid = writer, pid != getpid(), isAlive(pid) { continue }     // another live process's
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }
}
