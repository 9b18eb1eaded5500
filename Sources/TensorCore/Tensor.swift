/// A Float32 N-dimensional tensor with reverse-mode (VJP) and forward-mode (JVP) autodiff.
///
/// Storage is row-major and contiguous. Every op returns a new tensor; when any input is
/// on the tape (``requiresGrad``) and gradients are enabled, the result records its
/// parents and a backward closure that *adds* into their ``grad``. When any input carries a
/// ``tangent`` (forward mode), the result's tangent is computed eagerly.
///
/// ```swift
/// let w = Tensor.parameter([2, 3], data: [1, 2, 3, 4, 5, 6])
/// let x = Tensor([3, 1], data: [1, 0, -1])
/// let loss = (w.matmul(x)).square().sum()
/// loss.backward()
/// print(w.grad!)          // d loss / d w, shape [2, 3]
/// ```
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    /// The extents of each axis, outermost first. `[]` is a scalar.
    public let shape: [Int]
    /// The values, row-major. Optimisers update parameters through this in place.
    public var data: [Float]
    /// True for parameters and for results computed from them while gradients are enabled.
    public var requiresGrad: Bool
    /// The accumulated gradient `∂loss/∂self` after ``backward()``, same count as `data`.
    public var grad: [Float]?
    /// The forward-mode tangent `J·v` carried with this value, same count as `data`.
    public var tangent: [Float]?
    /// An optional name (parameter collections and error messages use it).
    public var name: String?

    /// The inputs this value was computed from (empty for leaves and off the tape).
    public private(set) var parents: [Tensor] = []
    /// Adds `∂loss/∂parent` into each parent's grad, given this node's grad.
    private var backwardFn: (([Float]) -> Void)?
    /// Which op made this value (for debugging and errors).
    public private(set) var op: String = "leaf"

    // MARK: - Construction

    /// A tensor with the given shape and values (`data.count` must equal the shape's product).
    public init(_ shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A scalar tensor.
    public convenience init(_ value: Float) { self.init([], data: [value]) }

    /// A tensor filled with one value.
    public convenience init(_ shape: [Int], repeating value: Float) {
        self.init(shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Zeros of the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape, repeating: 0) }
    /// Ones of the given shape.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape, repeating: 1) }

    /// A trainable leaf: `requiresGrad` is set so ops record the tape.
    public static func parameter(_ shape: [Int], data: [Float], name: String? = nil) -> Tensor {
        let t = Tensor(shape, data: data, requiresGrad: true)
        t.name = name
        return t
    }

    // MARK: - Shape facts

    /// Number of elements.
    public var count: Int { data.count }
    /// Number of axes.
    public var rank: Int { shape.count }
    /// Row-major strides in elements.
    public var strides: [Int] { Tensor.strides(for: shape) }

    /// Row-major strides for a shape.
    public static func strides(for shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs exactly one element, shape is \(shape)")
        return data[0]
    }

    /// Normalises a possibly negative axis.
    @inlinable public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < Swift.max(rank, 1), "axis \(a) out of range for shape \(shape)")
        return r
    }

    public var description: String {
        let shown = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }

    // MARK: - Tape

    /// A copy of the value that is off the tape and carries no tangent.
    public func detached() -> Tensor { Tensor(shape, data: data) }

    /// Builds an op's result. `backward` receives the result's gradient and must add into
    /// the parents' gradients (through ``accumulateGrad(_:)``); it is kept only when a parent
    /// is on the tape and gradients are enabled. `jvp` returns the result's tangent from the
    /// parents' tangents (a parent's missing tangent means zero); it runs only when a parent
    /// carries one. An op without forward mode passes `jvp: nil` and traps if asked for it.
    public static func makeResult(
        op: String, shape: [Int], data: [Float], parents: [Tensor],
        backward: (([Float]) -> Void)?, jvp: (() -> [Float])?
    ) -> Tensor {
        let out = Tensor(shape, data: data)
        out.op = op
        if GradMode.isEnabled, let backward, parents.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.parents = parents
            out.backwardFn = backward
        }
        if parents.contains(where: { $0.tangent != nil }) {
            guard let jvp else { fatalError("forward mode (JVP) is not implemented for op '\(op)'") }
            let t = jvp()
            precondition(t.count == out.count, "op '\(op)' returned a tangent of the wrong size")
            out.tangent = t
        }
        return out
    }

    /// Adds `g` (same count as `data`) into `grad`; a no-op for values off the tape.
    @inlinable public func accumulateGrad(_ g: [Float]) {
        guard requiresGrad else { return }
        precondition(g.count == count, "gradient size \(g.count) does not match \(shape)")
        if grad == nil { grad = g; return }
        grad!.withUnsafeMutableBufferPointer { dst in
            g.withUnsafeBufferPointer { src in
                for i in 0..<dst.count { dst[i] += src[i] }
            }
        }
    }

    /// Adds into `grad` through a pointer (allocated as zeros first if needed).
    @inlinable public func accumulateGrad(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard requiresGrad else { return }
        if grad == nil { grad = [Float](repeating: 0, count: count) }
        grad!.withUnsafeMutableBufferPointer { body($0) }
    }

    /// The tangent, or zeros where this value carries none.
    public var tangentOrZeros: [Float] { tangent ?? [Float](repeating: 0, count: count) }

    /// Reverse-mode sweep: seeds `∂self/∂self` with `seed` (ones by default; a scalar loss
    /// needs none) and accumulates gradients into every tensor on the tape below.
    public func backward(seed: [Float]? = nil) {
        precondition(requiresGrad, "backward() on a value that is not on the tape (no parameter reaches it)")
        let seedValues = seed ?? [Float](repeating: 1, count: count)
        precondition(seedValues.count == count, "seed size \(seedValues.count) does not match \(shape)")
        // Topological order by iterative DFS (deep graphs must not overflow the stack).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        accumulateGrad(seedValues)
        for node in order.reversed() {
            guard let fn = node.backwardFn, let g = node.grad else { continue }
            fn(g)
        }
    }

    /// Clears `grad` (parameters between optimiser steps).
    public func zeroGrad() { grad = nil }
}

/// Whether ops record the tape. Disable it for inference:
///
/// ```swift
/// let y = GradMode.withoutGrad { model(x) }   // no graph kept, less memory
/// ```
public enum GradMode {
    @TaskLocal static var enabled = true

    /// True unless inside ``withoutGrad(_:)``.
    public static var isEnabled: Bool { enabled }

    /// Runs `body` with the tape off (per task / thread; other tests are unaffected).
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        try $enabled.withValue(false, operation: body)
    }
}
