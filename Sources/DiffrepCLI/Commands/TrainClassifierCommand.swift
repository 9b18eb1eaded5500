import ArgumentParser
import Diffusion
import Evaluation
import Foundation
import JSON
import RunSupport
import TensorCore
import Toys

/// `diffrep train-classifier`: train the toys classifier the evaluation judges samples with.
struct TrainClassifierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-classifier",
        abstract: "Train the small CNN classifier whose accuracy and features the evaluation uses (KID, diversity).",
        discussion: """
            On the toys (procedural, never repeating) or on a folder of labelled PNGs (labels.csv with \
            columns file,label as `diffrep dataset` writes). Writes classifier.safetensors, loss.csv and a \
            manifest with the held-out accuracy (toys from a data seed never trained on; for a folder, \
            the last 10% of its files).
            """)

    @Option(help: "Training data: 'toys' or a folder of PNGs with labels.csv.")
    var data = "toys"
    @Option(parsing: .unconditional, help: "Optimisation steps.")
    var steps = 3000
    @Option(parsing: .unconditional, help: "Images per step.")
    var batchSize = 64
    @Option(parsing: .unconditional, help: "Peak Adam learning rate (cosine decay).")
    var learningRate: Float = 2e-3
    @Option(parsing: .unconditional, help: "Held-out images for the accuracy figure (toys).")
    var heldOut = 2048
    @Option(parsing: .unconditional, help: "Seed for initialisation, data and augmentations.")
    var seed: UInt64 = 0
    @Option(help: "Output folder.")
    var out = "out/classifier"
    @Option(help: "How the toys are posed: random (3D rotations), canonical (one upright pose per shape) or mixed (half each, what the shipped classifier learned from, so it reads both kinds of model's samples).")
    var pose: ClassifierPose = .mixed

    /// The poses `--pose` offers: the toys' own, or both mixed.
    enum ClassifierPose: String, ExpressibleByArgument, CaseIterable {
        case random, canonical, mixed
    }

    /// The toys data seed held out from classifier training (and from the tests' fresh toys).
    static let heldOutToysSeed: UInt64 = 0xC1A5

    /// The toys of `seed` in `pose`.
    static func toys(seed: UInt64, pose: ClassifierPose) -> TrainingData {
        switch pose {
        case .random: ToyTrainingData(dataset: ToyDataset(seed: seed, pose: .random))
        case .canonical: ToyTrainingData(dataset: ToyDataset(seed: seed, pose: .canonical))
        case .mixed: MixedPoseToyData(seed: seed)
        }
    }

    func validate() throws {
        try OptionCheck.range("--steps", steps, OptionLimits.iterations)
        try OptionCheck.range("--batch-size", batchSize, OptionLimits.batchSize)
        try OptionCheck.range("--held-out", heldOut, OptionLimits.heldOut)
        try OptionCheck.positive("--learning-rate", learningRate)
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: false)
        defer { output.end() }
        let outURL = output.folder
        let train: TrainingData, test: TrainingData, testItems: [Int], classes: Int
        if data == "toys" {
            train = Self.toys(seed: 0xC1A0 &+ seed, pose: pose)
            test = Self.toys(seed: Self.heldOutToysSeed, pose: pose)
            testItems = Array(0..<heldOut)
            classes = ToyDataset.classCount
        } else {
            let all = try LabelledPNGFolder(folder: URL(fileURLWithPath: data))
            let cut = Swift.max(1, all.images.count * 9 / 10)
            guard cut < all.images.count else { throw ValidationError("'\(data)' needs at least 2 images (90% train, 10% held out)") }
            train = all.subset(0..<cut)
            test = all
            testItems = Array(cut..<all.images.count)
            classes = all.classCount
        }
        var training = ClassifierTraining(data: train, classCount: classes)
        training.steps = steps
        training.batchSize = batchSize
        training.learningRate = learningRate
        training.seed = seed
        var manifest = RunManifest(subcommand: "train-classifier", version: DiffrepVersion.string, seed: seed, settings: [
            "data": .string(data), "pose": .string(data == "toys" ? pose.rawValue : "n/a"), "steps": .int(steps), "batch_size": .int(batchSize),
            "learning_rate": JSONValue(learningRate), "classes": .int(classes)])
        let csvURL = outURL.appendingPathComponent("loss.csv")
        let csv = try CSVLog(url: csvURL, columns: ["loss"], resumingAfter: nil)
        let bar = ProgressBar("classifier", total: steps)
        var recent: [Float] = []
        var failure: Error?
        let classifier = training.run { step, loss in
            recent.append(loss)
            if recent.count > 50 { recent.removeFirst() }
            do { try csv.append(step: step, values: [loss]) } catch { failure = error; return false }
            bar.update(step: step, extra: ["loss": Double(recent.reduce(0, +) / Float(recent.count))])
            return loss.isFinite
        }
        bar.finish()
        if let failure { throw failure }
        guard recent.last?.isFinite == true else { throw ValidationError("the loss became non-finite; lower --learning-rate") }
        let accuracy = ClassifierTraining.accuracy(classifier, data: test, items: testItems)
        try classifier.save(to: outURL.appendingPathComponent("classifier.safetensors"))
        manifest.addOutput("classifier.safetensors")
        manifest.addOutput("loss.csv")
        manifest.measurements["held_out_accuracy"] = accuracy
        manifest.measurements["held_out_images"] = Double(testItems.count)
        if data == "toys" {
            // Each pose on its own, whatever the classifier learned from.
            for p in [ToyPose.random, .canonical] {
                let a = ClassifierTraining.accuracy(classifier, data: ToyTrainingData(dataset: ToyDataset(seed: Self.heldOutToysSeed, pose: p)),
                                                    items: testItems)
                manifest.measurements["held_out_accuracy_\(p.rawValue)"] = a
                log(String(format: "held-out accuracy on %@ poses: %.1f%%", p.rawValue, 100 * a))
            }
        }
        manifest.finish()
        try manifest.write(to: outURL.appendingPathComponent("manifest.json"))
        log(String(format: "held-out accuracy %.1f%% on %d images; wrote %@", 100 * accuracy, testItems.count,
                   outURL.appendingPathComponent("classifier.safetensors").path))
    }
}
