// libFuzzer target: diffusers UNet2DModel `config.json` bytes → UNet2DConfig(json:source:).
// A config that parses must also build a UNet2D and run it without trapping (checked for small
// configs, where that is cheap).
import Foundation
import Diffusion
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUNetConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let config = try? UNet2DConfig(json: Data(bytes: data, count: size), source: "fuzz/config.json") else { return 0 }
    let small = config.blockOutChannels.count <= 3 && config.blockOutChannels.allSatisfy { $0 <= 32 }
        && config.layersPerBlock <= 2 && config.inChannels <= 8 && config.outChannels <= 8
        && (config.numClassEmbeds ?? 0) <= 64
    guard small else { return 0 }
    let unet = UNet2D(config: config, seed: 0)
    let side = 1 << (config.blockOutChannels.count - 1)
    let x = Tensor([1, config.inChannels, side, side], data: [Float](repeating: 0.5, count: config.inChannels * side * side))
    let y = unet.predict(x, timesteps: [10], conditions: nil)
    precondition(y.shape == [1, config.outChannels, side, side], "output shape \(y.shape)")
    return 0
}
