import Foundation
import TensorCore

/// Sinusoidal timestep features, exactly diffusers' `get_timestep_embedding`
/// (float32 arithmetic in the same order, so values match bit for bit in most cases):
/// `freq_i = exp(−ln(10000)·i / (half − shift))`, features `[sin(t·f), cos(t·f)]`,
/// swapped to `[cos, sin]` when `flipSinToCos`.
///
/// ```swift
/// let e = timestepFeatures([10, 500], dim: 32, flipSinToCos: true, shift: 0)   // [2, 32]
/// ```
func timestepFeatures(_ timesteps: [Float], dim: Int, flipSinToCos: Bool, shift: Int) -> Tensor {
    let half = dim / 2
    let lnMax = Float(-Foundation.log(10000.0))
    let freqs = (0..<half).map { i in Foundation.exp(lnMax * Float(i) / Float(half - shift)) }
    var out = [Float](repeating: 0, count: timesteps.count * dim)
    for (b, t) in timesteps.enumerated() {
        for i in 0..<half {
            let a = t * freqs[i]
            let (s, c) = (Foundation.sin(a), Foundation.cos(a))
            out[b * dim + i] = flipSinToCos ? c : s
            out[b * dim + half + i] = flipSinToCos ? s : c
        }
    }
    return Tensor([timesteps.count, dim], data: out)
}
