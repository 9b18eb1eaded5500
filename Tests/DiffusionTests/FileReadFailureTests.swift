import Foundation
import SafeTensors
import Testing
import Diffusion
import TensorCore

/// Model files that cannot be read are named with the file system's reason, not Foundation's
/// "NSCocoaErrorDomain error 256".
@Suite struct FileReadFailureTests {
    @Test func unreadableModelFilesNameTheReason() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("unreadable-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        try FileManager.default.createDirectory(at: base.appendingPathComponent("folder.json"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: base.appendingPathComponent("file"))
        let underFile = base.appendingPathComponent("file/config.json")
        #expect(throws: UNetConfigError.unreadable(underFile.path, "'\(base.path)/file' is a file, not a folder")) {
            try UNet2DConfig(contentsOf: underFile)
        }
        let missing = base.appendingPathComponent("nodir/config.json")
        #expect(throws: UNetConfigError.unreadable(missing.path, "No such file or directory")) { try UNet2DConfig(contentsOf: missing) }
        let folder = base.appendingPathComponent("folder.json")
        #expect(throws: UNetConfigError.unreadable(folder.path, "it is a folder, not a file")) { try UNet2DConfig(contentsOf: folder) }
        #expect(throws: SafeTensorsError.unreadable(path: folder.path, reason: "it is a folder, not a file")) {
            try SafeTensors.read(contentsOf: folder)
        }
        #expect(throws: ParameterCheckpointError.unreadable(path: folder.path, reason: "it is a folder, not a file")) {
            try ParameterCheckpoint.restore(contentsOf: folder, into: Parameters())
        }
    }

    /// A malformed safetensors file read from disk is named in the error, with what is wrong.
    @Test func malformedSafetensorsFilesAreNamed() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data([1, 2, 3]).write(to: url)
        let expected = SafeTensorsError.inFile(path: url.path, .fileTooShort(byteCount: 3))
        #expect(throws: expected) { try SafeTensors.read(contentsOf: url) }
        #expect(expected.description.hasPrefix("'\(url.path)': safetensors file is 3 bytes"))
    }
}
