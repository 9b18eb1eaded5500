import Foundation
import Diffusion
import TensorCore
import Diffreps

/// How the pullback sampler turns image-space changes `r_k = y_k − x_k` into a parameter change
/// `δθ = argmin_δ Σ_k ‖J_k δ − r_k‖²` (docs/DESIGN.md §2 "Sampling"), `J_k` the render's Jacobian in view `k`.
///
/// ```swift
/// let solver = LeastSquaresSolver.conjugateGradient(iterations: 50)
/// let stats = solver.pullBack(field, views: views, targets: y)   // moves field.parameters
/// ```
public enum LeastSquaresSolver: Sendable, Equatable {
    /// Conjugate gradients on the damped normal equations `(JᵀJ + λI) δ = Jᵀr`, started from
    /// `δ = 0` (so a rank-deficient `J` gives the minimum-norm solution). Each iteration is one
    /// JVP plus one VJP through a single render. It stops once `‖residual‖ ≤ tolerance·‖Jᵀr‖`.
    /// The damping is *relative*: `λ = damping · bᵀJᵀJb / bᵀb` for `b = Jᵀr`, so it scales with
    /// the render and `damping: 0` solves the plain normal equations.
    case conjugateGradient(iterations: Int = 20, tolerance: Float = 1e-4, damping: Float = 1e-6)
    /// `steps` Adam steps on `mean_k ‖R(θ', π_k) − y_k‖²` from `θ' = θ` (the render itself, not its
    /// linearisation). The learning rate is *relative* to the size of the change: step `t` uses
    /// `learningRate · RMS(y − x) · (1 − t/steps)` (linear decay to zero), so one setting works at
    /// every noise level.
    case adam(steps: Int = 20, learningRate: Float = 0.2)

    /// Conjugate gradients: the solve of diffreps without defaults of their own (``PullbackDefaults``; a NeRF takes ``adam(steps:learningRate:)``).
    public static let `default` = LeastSquaresSolver.conjugateGradient()

    /// Moves `diffrep`'s parameters by the least-squares change that takes the renders of
    /// `views` toward `targets` (`[K, C, H, W]`, one target per view), and says what the solve did.
    ///
    /// ```swift
    /// let x = GradMode.withoutGrad { image.render(views) }
    /// LeastSquaresSolver.default.pullBack(image, views: views, targets: x + delta)
    /// ```
    @discardableResult
    public func pullBack<R: Diffrep>(_ diffrep: R, views: [R.View], targets: Tensor) -> SolveStats {
        let x = GradMode.withoutGrad { diffrep.render(views) }
        precondition(x.shape == targets.shape, "targets \(targets.shape) do not match the renders \(x.shape)")
        return LeastSquares.solveAndApply(self, diffrep: diffrep, views: views, renders: x, targets: targets)
    }

    /// Throws unless the settings make sense.
    func validate() throws {
        switch self {
        case let .conjugateGradient(iterations, tolerance, damping):
            guard iterations >= 1 else { throw SamplingError.invalidConfiguration("conjugate gradients need ≥ 1 iteration") }
            guard tolerance >= 0, tolerance.isFinite else { throw SamplingError.invalidConfiguration("CG tolerance must be finite and ≥ 0") }
            guard damping >= 0, damping.isFinite else { throw SamplingError.invalidConfiguration("CG damping must be finite and ≥ 0") }
        case let .adam(steps, learningRate):
            guard steps >= 1 else { throw SamplingError.invalidConfiguration("the Adam solve needs ≥ 1 step") }
            guard learningRate > 0, learningRate.isFinite else {
                throw SamplingError.invalidConfiguration("the Adam learning rate must be finite and > 0")
            }
        }
    }
}

/// What a solve did (for reports and tests).
public struct SolveStats: Sendable {
    /// CG iterations or Adam steps taken.
    public var iterations = 0
    /// CG: `‖Jᵀr − (JᵀJ + λI)δ‖ / ‖Jᵀr‖` at the end. Adam: `‖R(θ') − y‖ / ‖y − x‖` before the last step.
    public var relativeResidual: Float = 0
}

enum LeastSquares {
    /// Solves for `δθ` that takes the renders `x` (`[K, C, H, W]`, at the current parameters) toward
    /// the targets `y`, and applies it. `.adam` moves the parameters directly.
    static func solveAndApply<R: Diffrep>(_ solver: LeastSquaresSolver, diffrep: R, views: [R.View],
                                          renders x: Tensor, targets y: Tensor) -> SolveStats {
        let r = zip(y.data, x.data).map { $0 - $1 }                                   // y − x
        switch solver {
        case let .conjugateGradient(iterations, tolerance, damping):
            let lin = Linearization(diffrep: diffrep, views: views)
            let (delta, stats) = conjugateGradient(lin, rhs: lin.vjp(r), iterations: iterations,
                                                   tolerance: tolerance, damping: damping)
            delta.apply(to: diffrep.parameters)
            return stats
        case let .adam(steps, learningRate):
            let rNorm = r.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            if rNorm == 0 { return SolveStats() }
            let rms = Float(rNorm / Double(Swift.max(r.count, 1)).squareRoot()) * diffrep.optimizerStepScale
            var opt = Adam(parameters: diffrep.parameters, learningRate: learningRate * rms)
            opt.learningRateScale = diffrep.optimizerStepScales
            var stats = SolveStats()
            diffrep.parameters.zeroGrad()
            for t in 0..<steps {
                opt.learningRate = learningRate * rms * (1 - Float(t) / Float(steps))
                let fit = diffrep.squaredError(views, targets: y) ?? (diffrep.render(views) - y).square().mean()
                stats.relativeResidual = Float((Double(fit.item) * Double(y.count)).squareRoot() / rNorm)
                let loss = diffrep.regularizer().map { fit + $0 } ?? fit
                loss.backward()
                opt.step()
                stats.iterations = t + 1
            }
            diffrep.parameters.zeroGrad()
            return stats
        }
    }

    /// CG on `(JᵀJ + λI) δ = b` from `δ = 0`, with the relative damping `λ = damping·bᵀJᵀJb/bᵀb`.
    static func conjugateGradient<R: Diffrep>(_ lin: Linearization<R>, rhs b: ParameterVector, iterations: Int,
                                              tolerance: Float, damping: Float) -> (ParameterVector, SolveStats) {
        var x = ParameterVector(parts: b.parts.map { [Float](repeating: 0, count: $0.count) })
        var res = b, p = b
        var rs = res.dot(res)
        let bNorm = rs.squareRoot()
        var stats = SolveStats()
        guard bNorm > 0, bNorm.isFinite else { return (x, stats) }
        var lambda: Float = 0
        for it in 1...Swift.max(iterations, 1) {
            var ap = lin.gaussNewton(p)                                               // JᵀJ p
            if it == 1 { lambda = damping * Float(p.dot(ap) / rs) }                   // p = b here
            if lambda != 0 { ap.add(p, scaledBy: lambda) }
            let pAp = p.dot(ap)
            guard pAp > 0, pAp.isFinite else { break }
            let alpha = Float(rs / pAp)
            x.add(p, scaledBy: alpha)
            res.add(ap, scaledBy: -alpha)
            let rsNew = res.dot(res)
            stats.iterations = it
            stats.relativeResidual = Float(rsNew.squareRoot() / bNorm)
            if rsNew.squareRoot() <= Double(tolerance) * bNorm { break }
            var next = res
            next.add(p, scaledBy: Float(rsNew / rs))
            p = next
            rs = rsNew
        }
        return (x, stats)
    }
}
