import ArgumentParser
import Diffusion
import Toys
import Foundation
import PNGIO

/// `diffrep dataset toys`: export the procedural toys as PNGs plus a labels file.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Export the procedural toys data set (PNGs + labels.csv).")

    @Argument(help: "Which data set (only 'toys').")
    var name = "toys"
    @Option(help: "Number of images.")
    var count = 64
    @Option(help: "Image size in pixels.")
    var size = 32
    @Option(help: "Seed (image i depends only on seed and i).")
    var seed: UInt64 = 0
    @Option(help: "Output folder.")
    var out = "out/toys"

    func validate() throws {
        guard name == "toys" else { throw ValidationError("unknown data set '\(name)' (only 'toys')") }
        guard count > 0, size >= 8 else { throw ValidationError("--count must be positive and --size ≥ 8") }
    }

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let toys = ToyDataset(seed: seed, size: size)
        var labels = "file,label,class\n"
        for start in stride(from: 0, to: count, by: 64) {
            let idx = Array(start..<Swift.min(start + 64, count))
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
