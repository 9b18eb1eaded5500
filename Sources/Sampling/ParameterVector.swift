import TensorCore

/// A direction in parameter space: one flat array per parameter tensor, in the diffrep's
/// ``Parameters`` order. The solvers do their linear algebra on these.
public struct ParameterVector: Sendable {
    public var parts: [[Float]]

    public init(parts: [[Float]]) { self.parts = parts }

    /// The gradients currently stored on `parameters` (zeros where none).
    public init(gradientsOf parameters: Parameters) {
        parts = parameters.tensors.map { $0.grad ?? [Float](repeating: 0, count: $0.count) }
    }

    /// `⟨self, other⟩` accumulated in Double.
    public func dot(_ other: ParameterVector) -> Double {
        var s = 0.0
        for (a, b) in zip(parts, other.parts) {
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { s += Double(pa[i]) * Double(pb[i]) }
            } }
        }
        return s
    }

    /// `self += alpha · other`
    public mutating func add(_ other: ParameterVector, scaledBy alpha: Float = 1) {
        for k in parts.indices {
            parts[k].withUnsafeMutableBufferPointer { pa in other.parts[k].withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { pa[i] += alpha * pb[i] }
            } }
        }
    }

    /// `self · alpha`
    public func scaled(by alpha: Float) -> ParameterVector {
        ParameterVector(parts: parts.map { $0.map { $0 * alpha } })
    }

    /// Adds this direction into the parameters' values: `θ += alpha · self`.
    public func apply(to parameters: Parameters, scaledBy alpha: Float = 1) {
        for (t, d) in zip(parameters.tensors, parts) {
            t.data.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] += alpha * d[i] }
            }
        }
    }

    /// True when every value is finite.
    public var isFinite: Bool { parts.allSatisfy { $0.allSatisfy { $0.isFinite } } }
}
