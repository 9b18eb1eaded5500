/// Checks an op's derivatives numerically: VJP against central finite differences and
/// JVP against VJP (`⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩`). Used by the tests; useful for checking
/// a custom diffrep or field too.
///
/// ```swift
/// let x = Tensor.parameter([3], data: [0.1, 0.5, -2])
/// let r = GradientCheck.finiteDifferences([x]) { $0[0].tanh() }
/// assert(r.maxError <= 1e-3 * max(1, r.scale))
/// ```
public enum GradientCheck {
    /// The largest difference found and the size of the gradients compared.
    public struct Result: CustomStringConvertible {
        public var maxError: Float
        public var scale: Float
        public var description: String { "max error \(maxError) (gradient scale \(scale))" }
    }

    /// Compares `∂⟨f(x), u⟩/∂x` from ``Tensor/backward(seed:)`` against central differences
    /// for every element of every input (random `u` from `seed`). Inputs must be parameters.
    public static func finiteDifferences(_ inputs: [Tensor], epsilon: Float = 1e-2, seed: UInt64 = 1,
                                         _ f: ([Tensor]) -> Tensor) -> Result {
        for x in inputs { x.requiresGrad = true; x.grad = nil; x.tangent = nil }
        let y = f(inputs)
        var rng = RandomGenerator(seed: seed)
        let u = rng.normalValues(y.count)
        y.backward(seed: u)
        func loss() -> Double {
            let out = GradMode.withoutGrad { f(inputs) }
            var s = 0.0
            for i in 0..<out.count { s += Double(out.data[i]) * Double(u[i]) }
            return s
        }
        var maxErr: Float = 0, scale: Float = 0
        for x in inputs {
            let analytic = x.grad ?? [Float](repeating: 0, count: x.count)
            for i in 0..<x.count {
                let v = x.data[i]
                x.data[i] = v + epsilon; let lp = loss()
                x.data[i] = v - epsilon; let lm = loss()
                x.data[i] = v
                let numeric = Float((lp - lm) / (2 * Double(epsilon)))
                maxErr = max(maxErr, abs(numeric - analytic[i]))
                scale = max(scale, abs(numeric))
            }
            x.grad = nil
        }
        return Result(maxError: maxErr, scale: scale)
    }

    /// Returns `(⟨J·v, u⟩, ⟨v, Jᵀ·u⟩)` for random `v` (tangents of all inputs) and `u`.
    public static func jvpAgainstVJP(_ inputs: [Tensor], seed: UInt64 = 2,
                                     _ f: ([Tensor]) -> Tensor) -> (jvp: Double, vjp: Double) {
        var rng = RandomGenerator(seed: seed)
        for x in inputs { x.requiresGrad = true; x.grad = nil; x.tangent = rng.normalValues(x.count) }
        let y = f(inputs)
        let u = rng.normalValues(y.count)
        guard let jv = y.tangent else { preconditionFailure("output carries no tangent") }
        y.backward(seed: u)
        var lhs = 0.0, rhs = 0.0
        for i in 0..<y.count { lhs += Double(jv[i]) * Double(u[i]) }
        for x in inputs {
            let g = x.grad ?? [Float](repeating: 0, count: x.count)
            for i in 0..<x.count { rhs += Double(x.tangent![i]) * Double(g[i]) }
            x.grad = nil
            x.tangent = nil
        }
        return (lhs, rhs)
    }
}
