import Foundation

/// The noise levels of Karras et al. 2022 ("Elucidating the Design Space…", eq. 5):
/// `σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ` for `i = 0…n−1`, then `σ_n = 0`.
///
/// ```swift
/// let sigmas = KarrasSchedule.sigmas(steps: 50, sigmaMin: 0.002, sigmaMax: 80)
/// sigmas.count    // 51: 50 levels from 80 down to 0.002, then 0
/// ```
public enum KarrasSchedule {
    /// `steps` decreasing noise levels from `sigmaMax` to `sigmaMin`, with `0` appended
    /// (so `steps` sampler steps). `steps == 1` gives `[sigmaMax, 0]`.
    public static func sigmas(steps: Int, sigmaMin: Float, sigmaMax: Float, rho: Float = 7) -> [Float] {
        precondition(steps >= 1, "a Karras schedule needs at least one step, got \(steps)")
        precondition(sigmaMin > 0 && sigmaMax >= sigmaMin,
                     "a Karras schedule needs 0 < sigmaMin ≤ sigmaMax, got \(sigmaMin), \(sigmaMax)")
        precondition(rho > 0, "rho must be positive, got \(rho)")
        if steps == 1 { return [sigmaMax, 0] }
        let invRho = 1 / Double(rho)
        let hi = Foundation.pow(Double(sigmaMax), invRho), lo = Foundation.pow(Double(sigmaMin), invRho)
        var out = (0..<steps).map { i -> Float in
            let f = Double(i) / Double(steps - 1)
            return Float(Foundation.pow(hi + f * (lo - hi), Double(rho)))
        }
        out[0] = sigmaMax
        out[steps - 1] = sigmaMin
        out.append(0)
        return out
    }
}
