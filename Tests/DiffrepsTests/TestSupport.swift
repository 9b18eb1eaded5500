import Testing
import TensorCore

// The few helpers of Tests/TensorCoreTests/TestSupport.swift that these tests need
// (test targets cannot see each other's files).

/// Asserts `|a − b| ≤ atol + rtol·|b|` elementwise, reporting the worst element.
func assertClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-5,
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

/// Checks VJP against finite differences and JVP against VJP for `f`.
func checkDerivatives(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2, jvp: Bool = true,
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
