// libFuzzer target: diffusers `scheduler_config.json` bytes → DDPMSchedule(configData:).
// A schedule that parses must also give DDIM and Karras levels (for a step count taken from
// the input) and map σ ↔ t without trapping.
import Foundation
import Diffusion

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchedulerConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let schedule = try? DDPMSchedule(configData: Data(bytes: data, count: size)) else { return 0 }
    let t = schedule.numTrainTimesteps
    precondition(schedule.sigmaMin.isFinite && schedule.sigmaMin > 0 && schedule.sigmaMax.isFinite, "σ range")
    for steps in [1, 1 + Int(data[size - 1]) % t, t] {
        _ = try? schedule.checkedDDIMSigmas(steps: steps)
        _ = schedule.karrasSigmas(steps: steps)
    }
    _ = schedule.timestep(forSigma: schedule.sigma(forTimestep: Float(t) / 2))
    return 0
}
