import ArgumentParser
import Diffusion
import Foundation
import PNGIO
import RunSupport
import TensorCore

/// `diffrep sample`: plain diffusion samples from a model, as a grid PNG (a model sanity check).
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Plain image samples from a model (DDIM), written as a grid PNG.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var resources: ResourceOptions
    @Option(name: .customLong("count"), parsing: .unconditional, help: "Number of images (default: 16; with --initial-noise, the file's batch).")
    var countOption: Int?
    /// `--count`, 16 when not given.
    var count: Int { countOption ?? 16 }
    @Option(parsing: .unconditional, help: "DDIM steps.")
    var steps = 50
    @Option(parsing: .unconditional, help: "DDIM stochasticity η (0 = deterministic).")
    var eta: Float = 0
    @Option(parsing: .unconditional, help: "Seed.")
    var seed: UInt64 = 0
    @Flag(help: "One row per class (guided), instead of --class / unconditional.")
    var perClass = false
    @Option(parsing: .unconditional, help: "Camera-aware models: draw each of --count samples from this many azimuths (one row per sample, the same starting noise along a row).")
    var views: Int?
    @Option(parsing: .unconditional, help: "With --views: the cameras' elevation in degrees.")
    var elevation: Float = 20
    @Option(help: "Stable Diffusion pipelines: start from these latents (a safetensors file with a tensor 'latents' [B, 4, h, w], diffusers' `latents=`) instead of seeded noise; with DDIM η = 0 the image is diffusers' StableDiffusionPipeline output for the same prompt, steps and guidance.")
    var initialNoise: String?
    @Option(help: "Output folder.")
    var out = "out/sample"

    func validate() throws {
        try OptionCheck.range("--count", countOption, OptionLimits.sampleCount)
        try OptionCheck.range("--steps", steps, OptionLimits.steps)
        try OptionCheck.range("--views", views, OptionLimits.views)
        if views != nil && perClass { throw ValidationError("--views and --per-class do not combine; pick a class with --class") }
        guard elevation.isFinite, Swift.abs(elevation) < 90 else { throw ValidationError("--elevation must be strictly between -90 and 90 degrees") }
        try OptionCheck.range("--eta", eta, 0...1)
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: false)
        defer { output.end() }
        if let pipeline = try model.loadPipeline() { return try run(pipeline, output: output) }
        if initialNoise != nil { throw ValidationError("--initial-noise is for Stable Diffusion pipeline folders (--model with model_index.json)") }
        let m = try model.load()
        try resources.check(memoryEstimate(m))
        let sigmas = try m.schedule.checkedDDIMSigmas(steps: steps)   // --steps within the model's timesteps
        var images: Tensor
        var columns = Int(Double(count).squareRoot().rounded(.up))
        if perClass {
            guard let classes = m.unet.config.nullClass else {
                throw ValidationError("--per-class needs a class-conditional model")
            }
            columns = count
            let guided = GuidedDenoiser(base: DDPMDenoiser(network: m.unet, schedule: m.schedule),
                                        guidance: m.guidance, nullClass: m.nullClass)
            let labels = (0..<classes).flatMap { [Int](repeating: $0, count: count) }
            images = try sample(guided, count: labels.count, condition: labels, sigmas: sigmas, m: m)
        } else if let views {
            guard m.unet.isCameraAware else {
                throw ValidationError("--views needs a camera-aware model (this one is not told the camera)")
            }
            columns = views
            let cameras = (0..<views).map { CameraPose(azimuth: 2 * Float.pi * Float($0) / Float(views), elevation: elevation * .pi / 180) }
            images = Tensor.concat(try (0..<count).map { row in
                var config = SamplerConfig(sigmas: sigmas, seed: seed &+ UInt64(row), condition: m.condition(count: views), cameras: cameras)
                config.sharedInitialNoise = true
                return try sample(m.denoiser, shape: [views] + m.imageShape, config: config)
            }, axis: 0)
        } else {
            images = try sample(m.denoiser, count: count, condition: m.condition(count: count), sigmas: sigmas, m: m)
        }
        let file = try output.file("samples.png")
        try PNG.write(try ImageGrid.tile(images, columns: columns), to: file.path)
        log("wrote \(file.path)")
    }

    func sample(_ d: any Denoiser, count: Int, condition: [Int]?, sigmas: [Float], m: LoadedModel) throws -> Tensor {
        try sample(d, shape: [count] + m.imageShape, config: SamplerConfig(sigmas: sigmas, seed: seed, condition: condition))
    }

    func sample(_ d: any Denoiser, shape: [Int], config: SamplerConfig) throws -> Tensor {
        let bar = ProgressBar("sample", total: config.steps)
        defer { bar.finish() }
        return try DDIMSampler(eta: eta).sample(d, shape: shape, config: config) { p in
            bar.update(step: p.step)
            return true
        }
    }
}

extension SampleCommand {
    /// Every image of one sampler call (all classes × --count with --per-class, one row of
    /// --views otherwise all --count) with the sampler's copies, the denoiser's batch (doubled
    /// by guidance) and the grid written.
    func memoryEstimate(_ m: LoadedModel) -> MemoryEstimate {
        var e = MemoryEstimate()
        let pixels = Double(m.imageShape.reduce(1, *))
        let classes = Double(m.unet.config.nullClass ?? 1)
        let batch = perClass ? classes * Double(count) : Double(views ?? count)
        let images = perClass ? batch : Double(count) * Double(views ?? 1)
        e.add("sampler state", floats: 6 * batch * pixels)
        e.add("denoiser activations", floats: ResourceFigures.unetActivations(m.unet.config, batch: 2 * batch, training: false))
        e.add("samples and grid", floats: 3 * images * pixels)
        return e
    }
}
