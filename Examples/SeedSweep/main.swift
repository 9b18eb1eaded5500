// An example research script on the public API only (docs/DESIGN.md §4): its own diffrep type — an
// image held at half resolution and shown upsampled — sampled with the pullback sampler and the
// embedded default model over a few seeds, PNGs out. CI builds it, so the API cannot break silently.
//
//   swift run -c release seed-sweep [OUT_DIR]
import DefaultModel
import Diffreps
import Diffusion
import Foundation
import PNGIO
import Sampling
import TensorCore

/// A diffrep of our own: `θ [C, H/2, W/2]`, rendered by nearest-neighbour upsampling.
final class HalfResolutionImage: Diffrep {
    let parameters: Parameters
    let renderShape: [Int]

    init(channels: Int, size: Int) {
        renderShape = [channels, size, size]
        parameters = Parameters([("pixels", Tensor.zeros([1, channels, size / 2, size / 2]))])
    }

    func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] { [Void](repeating: (), count: 1) }

    func render(_ views: [Void]) -> Tensor {
        parameters["pixels"]!.upsampleNearest2x().expanded(to: [views.count] + renderShape)
    }
}

let out = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "out/seed-sweep")
try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
let unet = try UNet2D(contentsOf: DefaultModel.folder)
let schedule = try DDPMSchedule(contentsOf: DefaultModel.folder.appendingPathComponent("scheduler_config.json"))
let denoiser = GuidedDenoiser(base: DDPMDenoiser(network: unet, schedule: schedule), guidance: 3,
                              nullClass: DefaultModel.classNames.count)
for seed: UInt64 in 0..<4 {
    let image = HalfResolutionImage(channels: 3, size: unet.config.sampleSize)
    let config = PullbackSampler.Configuration(sigmas: schedule.ddimSigmas(steps: 30), viewsPerStep: 1,
                                               seed: seed, classLabel: Int(seed) % DefaultModel.classNames.count)
    try PullbackSampler(denoiser: denoiser, configuration: config).sample(image)
    let file = out.appendingPathComponent("seed_\(seed).png")
    try PNG.write(image.render([()]).reshaped(image.renderShape), to: file.path)
    print("wrote \(file.path)")
}
