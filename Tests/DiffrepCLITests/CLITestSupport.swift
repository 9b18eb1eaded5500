import Foundation

/// What the CLI test suites share: a fresh temporary folder, the error message of a command
/// run (nil when it succeeds), and the arguments of NeRF, image and panorama runs small enough
/// for a test.
enum CLITest {
    /// A NeRF run of a few seconds: 4 steps on an 8³ grid, 3 frames of 16 px, a checkpoint every
    /// step, class box, seed 5 (add `--out`).
    static let tinyNerf = ["--steps", "4", "--resolution", "8", "--samples-per-ray", "8", "--frames", "3",
                           "--display-size", "16", "--checkpoint-every", "1", "--class", "box", "--seed", "5"]

    /// An image run of a few seconds: one image, 3 steps, 16 px display renders (add
    /// `--representation` and `--out`).
    static let tinyImage = ["--count", "1", "--steps", "3", "--display-size", "16", "--seed", "5"]

    /// A panorama run of a few seconds: 64 px around (two windows), 3 steps, 2 perspective views
    /// (add `--representation` and `--out`).
    static let tinyPanorama = ["--width", "64", "--steps", "3", "--perspective-views", "2", "--seed", "5"]

    /// A training run of a moment: one step of a batch of one on 8 px toys, a two-level UNet of
    /// 32 channels with attention at the second (add `--out`).
    static let tinyTrain = ["--channels", "32,32", "--attention", "1", "--size", "8", "--steps", "1", "--batch-size", "1"]

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
