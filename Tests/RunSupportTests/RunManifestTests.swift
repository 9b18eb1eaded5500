// Run manifests: JSON shape, round trip, model digests, atomic writes (JSONValue itself: Tests/JSONTests).

import Foundation
import Testing
import RunSupport

private let start = Date(timeIntervalSince1970: 1_700_000_000)

private func sampleManifest() -> RunManifest {
    var manifest = RunManifest(subcommand: "panorama", version: "0.1.0", seed: 7,
                               settings: ["steps": 50, "sampler": "pullback", "guidance": 2.5,
                                          "resample": true, "size": [256, 64], "camera": ["fov": 40]],
                               commandLine: ["diffrep", "panorama", "--seed", "7"], startTime: start)
    manifest.addOutput("panorama.png")
    manifest.addOutput("views/0.png")
    manifest.addOutput("panorama.png")
    manifest.measurements["seconds_per_step"] = 1.25
    manifest.finish(at: start.addingTimeInterval(190.5))
    return manifest
}

@Test func manifestRecordsTimesAndOutputs() {
    let manifest = sampleManifest()
    #expect(manifest.outputs == ["panorama.png", "views/0.png"])
    #expect(manifest.wallSeconds == 190.5)
    #expect(manifest.endTime == start.addingTimeInterval(190.5))
    #expect(RunManifest(subcommand: "x", version: "1").commandLine == CommandLine.arguments)
}

@Test func manifestJSONHasSnakeCaseKeysAndIsoDates() throws {
    let json = try #require(String(data: try sampleManifest().jsonData(), encoding: .utf8))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(Set(object.keys) == ["tool", "version", "subcommand", "command_line", "seed", "settings",
                                 "model_files", "start_time", "end_time", "wall_seconds", "outputs",
                                 "measurements", "blas_kernels"])
    #expect(object["start_time"] as? String == "2023-11-14T22:13:20Z")
    #expect(object["seed"] as? Int == 7)
    #expect(json.contains("\"views/0.png\""), "slashes are not escaped")
    let settings = try #require(object["settings"] as? [String: Any])
    #expect(settings["steps"] as? Int == 50)
    #expect(settings["sampler"] as? String == "pullback")
    #expect((settings["camera"] as? [String: Any])?["fov"] as? Int == 40)
    #expect(json.hasSuffix("}\n"))
}

@Test func manifestWritesAtomicallyAndReadsBack() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    var manifest = sampleManifest()
    manifest.measurements["final_loss"] = .nan             // survives as "nan"
    let url = scratch.file("manifest.json")
    try manifest.write(to: url)
    #expect(try scratch.contents() == ["manifest.json"])
    let back = try RunManifest.read(from: url)
    #expect(back.settings == manifest.settings)
    // Times are written to the second (wall_seconds keeps the fraction).
    #expect(back.startTime == manifest.startTime)
    #expect(abs(try #require(back.endTime).timeIntervalSince(try #require(manifest.endTime))) < 1)
    #expect(back.wallSeconds == 190.5)
    #expect(back.commandLine == manifest.commandLine && back.outputs == manifest.outputs)
    #expect(try #require(back.measurements["final_loss"]).isNaN)
    #expect(back.measurements["seconds_per_step"] == 1.25)
}

@Test func modelDigestsCoverEveryFileInTheFolder() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    let model = scratch.file("model")
    try FileManager.default.createDirectory(at: model.appendingPathComponent("unet"), withIntermediateDirectories: true)
    try Data("abc".utf8).write(to: model.appendingPathComponent("config.json"))
    try Data().write(to: model.appendingPathComponent("unet/weights.safetensors"))
    try Data("x".utf8).write(to: model.appendingPathComponent(".DS_Store"))
    var manifest = sampleManifest()
    try manifest.recordModel(at: model.path)
    #expect(manifest.modelPath == model.path)
    #expect(manifest.modelFiles == [
        "config.json": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "unet/weights.safetensors": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ])
    // A single file is keyed by its name.
    #expect(try RunManifest.digests(ofModelAt: model.appendingPathComponent("config.json").path)
            == ["config.json": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"])
    let missing = thrownMessage { try manifest.recordModel(at: scratch.path + "/nope") }
    #expect(missing == "cannot read '\(scratch.path)/nope' to compute its digest: No such file or directory")
}
