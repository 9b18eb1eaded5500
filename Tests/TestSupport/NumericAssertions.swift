// Numeric assertions shared by every test target that compares tensors or checks derivatives
// (`import TestSupport`). One copy, so a tolerance rule or a report format changes once.

import Testing
import TensorCore

/// Expects `|a − b| ≤ atol + rtol·|b|` elementwise (NaN matches only NaN) and reports the
/// worst element.
///
/// ```swift
/// assertClose(y.data, [1, 0.5, 0.25], rtol: 1e-6, "halving")
/// ```
public func assertClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-5,
                        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): sizes \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    var worst = 0, worstExcess: Float = -1
    for i in 0..<a.count {
        let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if excess > worstExcess || a[i].isNaN != b[i].isNaN { worstExcess = a[i].isNaN != b[i].isNaN ? .infinity : excess; worst = i }
    }
    #expect(worstExcess <= 0, "\(what): element \(worst): \(a.isEmpty ? 0 : a[worst]) vs \(b.isEmpty ? 0 : b[worst])",
            sourceLocation: sourceLocation)
}

/// ``assertClose(_:_:rtol:atol:_:sourceLocation:)`` on two tensors, which must also have the
/// same shape.
public func assertClose(_ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-5, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "\(what): shapes \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    assertClose(a.data, b.data, rtol: rtol, atol: atol, what, sourceLocation: sourceLocation)
}

/// A trainable tensor of `shape` with values uniform in `range`, the same for the same `seed`.
public func randomParameter(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = rng.uniform(shape, in: range)
    t.requiresGrad = true
    return t
}

/// Expects `f`'s VJP to match central finite differences (``GradientCheck/finiteDifferences(_:epsilon:seed:_:)``,
/// within `tolerance` relative to the gradient's scale) and, with `jvp`, its JVP to agree with
/// its VJP (``GradientCheck/jvpAgainstVJP(_:seed:_:)``).
///
/// ```swift
/// let x = randomParameter([2, 3], seed: 1)
/// checkDerivatives([x], "softplus") { $0[0].softplus() }
/// ```
public func checkDerivatives(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2, jvp: Bool = true,
                             _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation,
                             _ f: @escaping ([Tensor]) -> Tensor) {
    let r = GradientCheck.finiteDifferences(inputs, epsilon: epsilon, f)
    #expect(r.maxError <= tolerance * max(1, r.scale), "\(what) VJP vs finite differences: \(r)",
            sourceLocation: sourceLocation)
    if jvp {
        let (l, rr) = GradientCheck.jvpAgainstVJP(inputs, f)
        #expect(abs(l - rr) <= 1e-4 * max(1, abs(l)), "\(what) ⟨Jv,u⟩ = \(l) vs ⟨v,Jᵀu⟩ = \(rr)",
                sourceLocation: sourceLocation)
    }
}
