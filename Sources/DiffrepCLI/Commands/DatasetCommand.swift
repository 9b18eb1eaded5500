import ArgumentParser
import Diffusion
import JSON
import Toys
import Foundation
import PNGIO
import Diffreps
import RunSupport

/// `diffrep dataset toys`: export the procedural toys as PNGs plus a labels file — random views,
/// or (`--turntable F`) each scene from the F views of `diffrep nerf`'s turntable, the real
/// references a sampled NeRF compares with frame for frame.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Export the procedural toys data set (PNGs + labels.csv), as random views or turntables.")

    @Argument(help: "Which data set (only 'toys').")
    var name = "toys"
    @Option(parsing: .unconditional, help: "Number of images (with --turntable: scenes).")
    var count = 64
    @Option(parsing: .unconditional, help: "Render each scene from this many turntable views (azimuths 360°·k/F at 20° elevation, the views of diffrep nerf's turntable): one folder per scene.")
    var turntable: Int?
    @Option(name: .customLong("class"), parsing: .unconditional, help: "Only scenes of this class (name or label), e.g. box.")
    var classFilter: String?
    @Option(parsing: .unconditional, help: "Image size in pixels.")
    var size = 32
    @OptionGroup var resources: ResourceOptions
    @Option(parsing: .unconditional, help: "Seed (image i depends only on seed and i).")
    var seed: UInt64 = 0
    @Option(help: "How the toys are posed: random (3D rotations) or canonical (one upright pose per shape).")
    var pose: ToyPose = .random
    @Option(help: "Output folder.")
    var out = "out/toys"
    @Flag(help: "Write what a multi-view model (diffrep train --view-tiles) learns from: each image is four views of one scene a quarter turn apart, tiled 2×2 clockwise from the top-left (twice --size).")
    var viewTiles = false

    func validate() throws {
        guard name == "toys" else { throw ValidationError("unknown data set '\(name)' (only 'toys')") }
        try OptionCheck.range("--count", count, OptionLimits.datasetCount)
        try OptionCheck.range("--size", size, OptionLimits.datasetSize)
        try OptionCheck.range("--turntable", turntable, OptionLimits.views)
        _ = try classLabel()
        if viewTiles && turntable != nil { throw ValidationError("--view-tiles and --turntable are two layouts of views: pick one") }
    }

    func classLabel() throws -> Int? {
        guard let classFilter else { return nil }
        if let n = Int(classFilter), n >= 0, n < ToyDataset.classCount { return n }
        if let shape = ToyShape.allCases.first(where: { $0.name == classFilter }) { return shape.rawValue }
        throw ValidationError("unknown class '\(classFilter)'; use 0..<\(ToyDataset.classCount) or one of \(ToyShape.allCases.map(\.name).joined(separator: ", "))")
    }

    /// The first `count` scene indices (of the class, if one was asked for).
    func sceneIndices(_ toys: ToyDataset) throws -> [Int] {
        guard let label = try classLabel() else { return Array(0..<count) }
        return toys.indices(labelledIn: [label], count: count)
    }

    /// One folder of frames per scene (`scene_NNNNNN/frame_FFF.png` and the animated
    /// `turntable.png`), labels.csv with scene, class, view.
    func writeTurntables(frames: Int, to output: OutputRun) throws {
        let toys = ToyDataset(seed: seed, size: size, pose: pose)
        let views = OrbitView.turntable(frames: frames)
        var labels = "file,label,class,scene,view,azimuth_deg,elevation_deg\n"
        var outputs: [String] = []
        let indices = try sceneIndices(toys)
        let bar = ProgressBar("turntables", total: indices.count)
        for (n, i) in indices.enumerated() {
            let scene = toys.scene(i).scene
            let folder = String(format: "scene_%06d", i)
            var images: [PNGImage] = []
            for (k, view) in views.enumerated() {
                let file = folder + String(format: "/frame_%03d.png", k)
                let image = try PNGImage(tensor: toys.renderer.render(scene, view: view, width: size, height: size))
                images.append(image)
                try PNG.write(image, to: try output.file(file).path)
                labels += "\(file),\(scene.label),\(ToyShape(rawValue: scene.label)!.name),\(i),\(k),"
                    + String(format: "%.2f,%.2f\n", view.azimuth * 180 / .pi, view.elevation * 180 / .pi)
            }
            // The same frames as an animated PNG, like diffrep nerf's turntable.png.
            try APNG.write(frames: images, delayMs: 80, to: try output.file(folder + "/turntable.png").path)
            outputs.append(folder + "/")
            bar.update(step: n + 1)
        }
        bar.finish()
        try finish(output, labels: labels, outputs: outputs)
        log("wrote \(indices.count) turntables of \(frames) frames and labels.csv to \(output.folder.path)")
    }

    func run() throws {
        try resources.check(memoryEstimate())
        let output = try OutputRun.begin(out, staged: true)
        defer { output.end() }
        if let turntable { return try writeTurntables(frames: turntable, to: output) }
        let toys = ToyDataset(seed: seed, size: size, pose: pose)
        var labels = "file,label,class\n"
        var outputs: [String] = []
        let all = try sceneIndices(toys)
        for start in stride(from: 0, to: all.count, by: 64) {
            let idx = Array(all[start..<Swift.min(start + 64, all.count)])
            let batch = viewTiles ? ToyViewTiles(dataset: toys).batch(idx) : ToyTrainingData(dataset: toys).batch(idx)
            let side = batch.images.shape[2]
            for (k, i) in idx.enumerated() {
                let file = String(format: "toy_%06d.png", i)
                try PNG.write(batch.images.slice(axis: 0, k..<(k + 1)).reshaped([3, side, side]),
                              to: try output.file(file).path)
                outputs.append(file)
                let label = batch.labels![k]
                labels += "\(file),\(label),\(ToyShape(rawValue: label)!.name)\n"
            }
        }
        try finish(output, labels: labels, outputs: outputs)
        log("wrote \(all.count) images and labels.csv to \(output.folder.path)")
    }

    /// Writes labels.csv and a manifest listing every file, then moves them all into place (a
    /// rerun with a smaller --count leaves no images of the previous run behind).
    func finish(_ output: OutputRun, labels: String, outputs: [String]) throws {
        try OutputFolder.atomicWrite(data: Data(labels.utf8), to: try output.file("labels.csv"))
        var manifest = RunManifest(subcommand: "dataset", version: DiffrepVersion.string, seed: seed, settings: [
            "name": .string(name), "count": .int(count), "turntable": turntable.map { .int($0) } ?? .null,
            "class": classFilter.map(JSONValue.string) ?? .null, "size": .int(size), "pose": .string(pose.rawValue), "view_tiles": .bool(viewTiles)])
        for file in outputs + ["labels.csv"] { manifest.addOutput(file) }
        manifest.finish()
        try manifest.write(to: try output.file(OutputRun.manifestName))
        try output.commit(outputs: manifest.outputs)
    }

    /// A batch of 64 renders (or one scene's turntable) with the renderer's per-pixel state,
    /// the PNG frames of a scene, and the labels text.
    func memoryEstimate() -> MemoryEstimate {
        var e = MemoryEstimate()
        let pixels = Double(size) * Double(size)
        let perBatch = Double(turntable ?? Swift.min(64, count))
        e.add("renders", floats: 24 * perBatch * pixels)
        e.add("frames of a scene", bytes: 8 * perBatch * pixels)
        e.add("labels", bytes: 80 * Double(count) * Double(turntable ?? 1))
        return e
    }
}
