// libFuzzer target: `nerf.safetensors` bytes → ParameterCheckpoint.restore into the parameters
// of a small voxel-grid NeRF field (what `diffrep nerf --resume` and `diffrep eval nerf` do).
import Foundation
import Diffreps
import SafeTensors

nonisolated(unsafe) let field: VoxelGridField = {
    let f = VoxelGridField(resolution: 4)
    // FUZZ_WRITE_SEED=FILE writes a valid checkpoint of this field (the seed corpus's).
    if let path = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEED"] {
        try! ParameterCheckpoint.save(f.parameters, step: 3, settings: #"{"field":"grid","resolution":4}"#, to: URL(fileURLWithPath: path))
    }
    return f
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNeRFCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? ParameterCheckpoint.restore(Data(bytes: data, count: size), source: "fuzz/nerf.safetensors", into: field.parameters)
    return 0
}
