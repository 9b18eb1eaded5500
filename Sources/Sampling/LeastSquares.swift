import Foundation
import TensorCore
import Diffreps

/// How the pullback sampler turns image-space changes into a parameter change
/// `δθ = argmin_δ Σ_k ‖J_k δ − r_k‖² (+ damping·‖δ‖²)`.
public enum LeastSquaresSolver: Sendable, Equatable {
    /// Conjugate gradients on the normal equations `(JᵀJ + λI) δ = Jᵀr` (each iteration one
    /// JVP + one VJP through a single render). Stops at `‖residual‖ ≤ tolerance·‖Jᵀr‖`.
    case conjugateGradient(iterations: Int = 20, tolerance: Float = 1e-4, damping: Float = 1e-6)
    /// A few Adam steps on `mean_k ‖R(θ', π_k) − y_k‖²` starting from `θ' = θ`.
    case adam(steps: Int = 20, learningRate: Float = 1e-2)

    /// The default: conjugate gradients.
    public static let `default` = LeastSquaresSolver.conjugateGradient()
}

/// What a solve did (for reports and tests).
public struct SolveStats: Sendable {
    public var iterations = 0
    public var relativeResidual: Float = 0
}

enum LeastSquares {
    /// Solves for `δθ` given residuals `r = y − x` (shape of the stacked renders) and applies it.
    /// For `.adam` the parameters are moved directly.
    static func solveAndApply<R: Diffrep>(_ solver: LeastSquaresSolver, diffrep: R, views: [R.View],
                                          residual r: [Float], target y: Tensor) -> SolveStats {
        switch solver {
        case let .conjugateGradient(iterations, tolerance, damping):
            let lin = Linearization(diffrep: diffrep, views: views)
            let (delta, stats) = conjugateGradient(lin, rhs: lin.vjp(r), iterations: iterations,
                                                   tolerance: tolerance, damping: damping)
            delta.apply(to: diffrep.parameters)
            return stats
        case let .adam(steps, learningRate):
            var opt = Adam(parameters: diffrep.parameters, learningRate: learningRate)
            var loss: Float = 0
            for _ in 0..<steps {
                let l = (diffrep.render(views) - y).square().mean()
                loss = l.item
                l.backward()
                opt.step()
            }
            return SolveStats(iterations: steps, relativeResidual: loss)
        }
    }

    /// CG on `(JᵀJ + λI) δ = b`.
    static func conjugateGradient<R: Diffrep>(_ lin: Linearization<R>, rhs b: ParameterVector, iterations: Int,
                                              tolerance: Float, damping: Float) -> (ParameterVector, SolveStats) {
        var x = ParameterVector(parts: b.parts.map { [Float](repeating: 0, count: $0.count) })
        var res = b, p = b
        var rs = res.dot(res)
        let bNorm = rs.squareRoot()
        var stats = SolveStats()
        if bNorm == 0 { return (x, stats) }
        for it in 1...Swift.max(iterations, 1) {
            var ap = lin.gaussNewton(p)
            if damping != 0 { ap.add(p, scaledBy: damping) }
            let pAp = p.dot(ap)
            if pAp <= 0 { break }
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
