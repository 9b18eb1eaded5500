import Foundation

/// What the CLI test suites share: a fresh temporary folder, the error message of a command
/// run (nil when it succeeds), and the arguments of a NeRF run small enough for a test.
enum CLITest {
    /// A NeRF run of a few seconds: 4 steps on an 8³ grid, 3 frames of 16 px, a checkpoint every
    /// step, class box, seed 5 (add `--out`).
    static let tinyNerf = ["--steps", "4", "--resolution", "8", "--samples-per-ray", "8", "--frames", "3",
                           "--display-size", "16", "--checkpoint-every", "1", "--class", "box", "--seed", "5"]

    /// A path in the temporary directory that does not exist yet, `tag-UUID`.
    static func temporaryFolder(_ tag: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)")
    }

    /// The error `body` throws, as the CLI prints it, or nil when it succeeds.
    static func errorMessage(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }
}
