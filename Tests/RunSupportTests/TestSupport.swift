// Helpers shared by the RunSupport tests: scratch folders and captured errors.

import Foundation

/// A fresh empty folder under the system temporary directory (removed by `remove()`).
struct ScratchFolder {
    let url: URL
    var path: String { url.path }
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("runsupport-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    /// A URL inside the folder.
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    /// Names of the entries in the folder, sorted (hidden ones included).
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The error `body` throws, as its description, or nil when it does not throw.
func thrownMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch { return "\(error)" }
    return nil
}
