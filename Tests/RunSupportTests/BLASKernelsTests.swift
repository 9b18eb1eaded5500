// The OpenBLAS kernel check: which core type a tool relaunches with, and that the built
// `diffrep` really runs with it (its manifest records the kernels it used).

import Foundation
import Testing
import RunSupport
import TensorCore

private let avx512: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

@Test func genericKernelsOnAWiderCPUAreUpgraded() {
    #expect(BLAS.betterCoreType(chosen: "Prescott", cpuFlags: avx512) == "SkylakeX")
    #expect(BLAS.betterCoreType(chosen: "Prescott", cpuFlags: ["sse2", "avx", "avx2", "fma"]) == "Haswell")
    #expect(BLAS.betterCoreType(chosen: "Nehalem", cpuFlags: ["avx2", "fma"]) == "Haswell")
    // AVX-512 foundation alone (no BW/DQ/VL) is not what the SkylakeX kernels need.
    #expect(BLAS.betterCoreType(chosen: "Prescott", cpuFlags: ["avx512f", "avx2", "fma"]) == "Haswell")
}

@Test func wideOrUnimprovableChoicesAreKept() {
    for core in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"] {
        #expect(BLAS.betterCoreType(chosen: core, cpuFlags: avx512) == nil, "\(core)")
    }
    #expect(BLAS.betterCoreType(chosen: "Prescott", cpuFlags: ["sse2", "sse3", "avx"]) == nil)
    #expect(BLAS.betterCoreType(chosen: "Prescott", cpuFlags: []) == nil)
}

@Test func aUserChoiceOrAnEarlierRelaunchIsNeverOverridden() {
    #expect(BLASKernels.relaunchCoreType(environment: [:], chosen: "Prescott", cpuFlags: avx512) == "SkylakeX")
    #expect(BLASKernels.relaunchCoreType(environment: ["OPENBLAS_CORETYPE": "Prescott"],
                                         chosen: "Prescott", cpuFlags: avx512) == nil)
    #expect(BLASKernels.relaunchCoreType(environment: ["OPENBLAS_CORETYPE": ""],
                                         chosen: "Prescott", cpuFlags: avx512) == nil)
    #expect(BLASKernels.relaunchCoreType(environment: [BLASKernels.relaunchedVariable: "SkylakeX"],
                                         chosen: "Prescott", cpuFlags: avx512) == nil)
}

@Test func cpuFlagsAreReadOnLinux() {
    let flags = BLAS.cpuFlags
    #expect(flags.contains("sse2"), "x86-64 always has SSE2; got \(flags.count) flags")
}

@Test func manifestsRecordTheKernels() throws {
    let manifest = RunManifest(subcommand: "x", version: "1")
    #expect(manifest.blasKernels == BLAS.coreName)
    let json = String(decoding: try manifest.jsonData(), as: UTF8.self)
    #expect(json.contains("\"blas_kernels\" : \"\(BLAS.coreName)\""))
}

/// The built tool (beside this test bundle: `swift test` builds every product) writes a one-image
/// data set; its manifest names the kernels the process ran with after any relaunch.
@Test func theToolRunsWithTheWidestKernels() throws {
    let products = Bundle.main.bundleURL.deletingLastPathComponent()
    let candidates = [products, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        .map { $0.appendingPathComponent("diffrep") }
    guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        Issue.record("no built diffrep beside the tests (looked in \(candidates.map(\.path)))")
        return
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("blas-kernels-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = nil
    environment[BLASKernels.relaunchedVariable] = nil
    let child = Process()
    child.executableURL = tool
    child.arguments = ["dataset", "toys", "--count", "1", "--out", out.path]
    child.environment = environment
    child.standardOutput = FileHandle.nullDevice
    try child.run()
    child.waitUntilExit()
    #expect(child.terminationStatus == 0)
    let manifest = try RunManifest.read(from: out.appendingPathComponent("manifest.json"))
    // This test process never relaunches, so it holds OpenBLAS's own choice unless the
    // environment named one.
    let ownChoice = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil ? BLAS.coreName : nil
    if let ownChoice {
        let expected = BLAS.betterCoreType(chosen: ownChoice, cpuFlags: BLAS.cpuFlags) ?? ownChoice
        #expect(manifest.blasKernels == expected)
    } else {
        #expect(manifest.blasKernels != nil)
    }
}
