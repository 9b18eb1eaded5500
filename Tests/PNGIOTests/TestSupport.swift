// Helpers shared by the PNGIO tests: fixture paths, scratch folders, test images.

import Foundation
@testable import PNGIO

/// The path of a committed fixture (see Fixtures/make_fixtures.py).
func fixturePath(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw PNGError.invalidImage(message: "fixture \(name) missing from the test bundle")
    }
    return url.path
}

/// A fresh empty folder under the system temporary directory (removed by `remove()`).
struct ScratchFolder {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("pngio-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    /// Names of the entries in the folder, sorted.
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A deterministic pseudo-random image (noise compresses badly, so files are large enough to cut).
func noiseImage(width: Int, height: Int, channels: Int, seed: UInt32) -> PNGImage {
    var state = seed &* 2_654_435_761 &+ 1
    let pixels = (0..<(width * height * channels)).map { _ -> UInt8 in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    }
    return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
}

/// The error `body` throws, if it is a `PNGError`.
func pngError(_ body: () throws -> Void) -> PNGError? {
    do { try body() } catch let error as PNGError { return error } catch {}
    return nil
}
