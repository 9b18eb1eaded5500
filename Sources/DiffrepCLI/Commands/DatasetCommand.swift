import ArgumentParser
import Diffusion
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
    @Option(help: "Number of images (with --turntable: scenes).")
    var count = 64
    @Option(help: "Render each scene from this many turntable views (azimuths 360°·k/F at 20° elevation, the views of diffrep nerf's turntable): one folder per scene.")
    var turntable: Int?
    @Option(name: .customLong("class"), help: "Only scenes of this class (name or label), e.g. box.")
    var classFilter: String?
    @Option(help: "Image size in pixels.")
    var size = 32
    @Option(help: "Seed (image i depends only on seed and i).")
    var seed: UInt64 = 0
    @Option(help: "How the toys are posed: random (3D rotations) or canonical (one upright pose per shape).")
    var pose: ToyPose = .random
    @Option(help: "Output folder.")
    var out = "out/toys"

    func validate() throws {
        guard name == "toys" else { throw ValidationError("unknown data set '\(name)' (only 'toys')") }
        guard count > 0, size >= 8 else { throw ValidationError("--count must be positive and --size ≥ 8") }
        if let turntable, turntable < 1 { throw ValidationError("--turntable must be at least 1") }
        _ = try classLabel()
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
    func writeTurntables(frames: Int, to outURL: URL) throws {
        let toys = ToyDataset(seed: seed, size: size, pose: pose)
        let views = OrbitView.turntable(frames: frames)
        var labels = "file,label,class,scene,view,azimuth_deg,elevation_deg\n"
        let indices = try sceneIndices(toys)
        let bar = ProgressBar("turntables", total: indices.count)
        for (n, i) in indices.enumerated() {
            let scene = toys.scene(i).scene
            let folder = String(format: "scene_%06d", i)
            try FileManager.default.createDirectory(at: outURL.appendingPathComponent(folder), withIntermediateDirectories: true)
            var images: [PNGImage] = []
            for (k, view) in views.enumerated() {
                let file = folder + String(format: "/frame_%03d.png", k)
                let image = try PNGImage(tensor: toys.renderer.render(scene, view: view, width: size, height: size))
                images.append(image)
                try PNG.write(image, to: outURL.appendingPathComponent(file).path)
                labels += "\(file),\(scene.label),\(ToyShape(rawValue: scene.label)!.name),\(i),\(k),"
                    + String(format: "%.2f,%.2f\n", view.azimuth * 180 / .pi, view.elevation * 180 / .pi)
            }
            // The same frames as an animated PNG, like diffrep nerf's turntable.png.
            try APNG.write(frames: images, delayMs: 80, to: outURL.appendingPathComponent(folder + "/turntable.png").path)
            bar.update(step: n + 1)
        }
        bar.finish()
        try labels.write(to: outURL.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        log("wrote \(indices.count) turntables of \(frames) frames and labels.csv to \(outURL.path)")
    }

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        if let turntable { return try writeTurntables(frames: turntable, to: outURL) }
        let toys = ToyDataset(seed: seed, size: size, pose: pose)
        var labels = "file,label,class\n"
        let all = try sceneIndices(toys)
        for start in stride(from: 0, to: all.count, by: 64) {
            let idx = Array(all[start..<Swift.min(start + 64, all.count)])
            let batch = toys.batch(idx)
            for (k, i) in idx.enumerated() {
                let file = String(format: "toy_%06d.png", i)
                try PNG.write(batch.images.slice(axis: 0, k..<(k + 1)).reshaped([3, size, size]),
                              to: outURL.appendingPathComponent(file).path)
                labels += "\(file),\(batch.labels[k]),\(ToyShape(rawValue: batch.labels[k])!.name)\n"
            }
        }
        try labels.write(to: outURL.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        log("wrote \(count) images and labels.csv to \(outURL.path)")
    }
}
