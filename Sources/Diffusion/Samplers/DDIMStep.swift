import TensorCore

/// The coefficients of one DDIM step `σ → σ'` in variance-exploding form:
/// `x' = D + keep·(x − D) + noise·z` with `z ~ N(0, I)`, where
/// `noise = η·(σ'/σ)·√(σ² − σ'²)` and `keep = √(σ'² − noise²)/σ`.
///
/// Derivation: DDIM (Song et al. 2021, eq. 12) in VP terms is
/// `x_{t'} = √ᾱ'·x̂₀ + √(1−ᾱ'−s²)·ε̂ + s·z` with `s² = η²·(1−ᾱ')/(1−ᾱ)·(1−ᾱ/ᾱ')`. Dividing by
/// `√ᾱ'` (VE state `x = x_t/√ᾱ`), with `ᾱ = 1/(1+σ²)` and `ε̂ = (x − D)/σ`, gives the noise scale
/// `s/√ᾱ' = η·(σ'/σ)·√(σ² − σ'²)` and the kept part `√(σ'² − noise²)`·ε̂. At `η = 0` this is
/// the PF-ODE step `x' = D + (σ'/σ)(x − D)`; at `η = 1` the noise variance is the DDPM posterior
/// variance `σ'²(σ² − σ'²)/σ²`. For `η > 1` the noise scale is capped at `σ'` (keep = 0).
///
/// ```swift
/// let c = ddimStepCoefficients(sigma: 2, nextSigma: 1, eta: 0)   // (keep: 0.5, noise: 0)
/// ```
public func ddimStepCoefficients(sigma: Float, nextSigma: Float, eta: Float) -> (keep: Float, noise: Float) {
    precondition(sigma > 0 && nextSigma >= 0 && nextSigma <= sigma,
                 "a DDIM step needs σ > 0 and 0 ≤ σ' ≤ σ, got \(sigma) → \(nextSigma)")
    precondition(eta >= 0, "eta must be non-negative, got \(eta)")
    let s = Double(sigma), sn = Double(nextSigma)
    let noise = Swift.min(Double(eta) * (sn / s) * (s * s - sn * sn).squareRoot(), sn)
    let keep = Swift.max(sn * sn - noise * noise, 0).squareRoot() / s
    return (Float(keep), Float(noise))
}

/// One DDIM step from noise level `sigma` to `nextSigma` (docs/DESIGN.md §1):
/// `x' = D + keep·(x − D) + noise_scale·noise`, coefficients from ``ddimStepCoefficients(sigma:nextSigma:eta:)``.
/// `η = 0` is deterministic (`noise` may be `nil`); `η > 0` needs `noise ~ N(0, I)` of `x`'s shape
/// unless `nextSigma` is 0. Written with tensor ops, so it stays on the tape if its inputs are —
/// the pullback sampler uses this exact formula for its targets.
///
/// ```swift
/// let d = denoiser.denoise(x, sigma: 2, condition: nil)
/// let next = ddimStep(x: x, denoised: d, sigma: 2, nextSigma: 1, eta: 0, noise: nil)   // d + 0.5·(x − d)
/// ```
public func ddimStep(x: Tensor, denoised: Tensor, sigma: Float, nextSigma: Float, eta: Float, noise: Tensor?) -> Tensor {
    precondition(x.shape == denoised.shape, "x \(x.shape) and denoised \(denoised.shape) differ in shape")
    let c = ddimStepCoefficients(sigma: sigma, nextSigma: nextSigma, eta: eta)
    let deterministic = denoised + (x - denoised).scaled(by: c.keep)
    guard c.noise > 0 else { return deterministic }
    guard let noise else { preconditionFailure("a stochastic DDIM step (η = \(eta), σ' = \(nextSigma)) needs noise") }
    precondition(noise.shape == x.shape, "noise \(noise.shape) does not match x \(x.shape)")
    return deterministic + noise.scaled(by: c.noise)
}
