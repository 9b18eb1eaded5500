// Elementwise binary arithmetic with broadcasting: +, −, ×, ÷ between tensors and with
// scalars. Each op has a VJP and a JVP.

extension Tensor {
    /// Applies `f` elementwise over the broadcast of `self` and `other`.
    @inline(__always)
    static func broadcastMap(_ a: Tensor, _ b: Tensor, _ outShape: [Int],
                             _ f: (Float, Float) -> Float) -> [Float] {
        let count = outShape.reduce(1, *)
        let sa = Broadcast.stridesInto(a.shape, outShape)
        let sb = Broadcast.stridesInto(b.shape, outShape)
        return uninitializedFloats(count) { op in    // every value is written below
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    if a.shape == outShape && b.shape == outShape {
                        for i in 0..<count { op[i] = f(ap[i], bp[i]) }
                        return
                    }
                    Broadcast.forEachRun(outShape, sa, sb) { o, ai, bi, n, aStep, bStep in
                        if bStep == 0 && aStep == 1 {      // a row plus one value (a bias per channel)
                            let v = bp[bi]
                            for k in 0..<n { op[o &+ k] = f(ap[ai &+ k], v) }
                        } else {
                            for k in 0..<n { op[o &+ k] = f(ap[ai &+ k &* aStep], bp[bi &+ k &* bStep]) }
                        }
                    }
                }
            }
        }
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let shape = Broadcast.shape(a.shape, b.shape)
        return makeResult(
            op: "add", shape: shape, data: broadcastMap(a, b, shape, +), parents: [a, b],
            backward: { g in
                if a.requiresGrad { a.accumulateGrad(Broadcast.sum(g, from: shape, to: a.shape)) }
                if b.requiresGrad { b.accumulateGrad(Broadcast.sum(g, from: shape, to: b.shape)) }
            },
            jvp: {
                let ta = Tensor(a.shape, data: a.tangentOrZeros), tb = Tensor(b.shape, data: b.tangentOrZeros)
                return broadcastMap(ta, tb, shape, +)
            })
    }

    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let shape = Broadcast.shape(a.shape, b.shape)
        return makeResult(
            op: "sub", shape: shape, data: broadcastMap(a, b, shape, -), parents: [a, b],
            backward: { g in
                if a.requiresGrad { a.accumulateGrad(Broadcast.sum(g, from: shape, to: a.shape)) }
                if b.requiresGrad { b.accumulateGrad(Broadcast.sum(g.map { -$0 }, from: shape, to: b.shape)) }
            },
            jvp: {
                let ta = Tensor(a.shape, data: a.tangentOrZeros), tb = Tensor(b.shape, data: b.tangentOrZeros)
                return broadcastMap(ta, tb, shape, -)
            })
    }

    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let shape = Broadcast.shape(a.shape, b.shape)
        return makeResult(
            op: "mul", shape: shape, data: broadcastMap(a, b, shape, *), parents: [a, b],
            backward: { g in
                let gt = Tensor(shape, data: g)
                if a.requiresGrad { a.accumulateGrad(Broadcast.sum(broadcastMap(gt, b, shape, *), from: shape, to: a.shape)) }
                if b.requiresGrad { b.accumulateGrad(Broadcast.sum(broadcastMap(gt, a, shape, *), from: shape, to: b.shape)) }
            },
            jvp: {
                var t = [Float](repeating: 0, count: shape.reduce(1, *))
                if let ta = a.tangent { t = broadcastMap(Tensor(a.shape, data: ta), b, shape, *) }
                if let tb = b.tangent {
                    let u = broadcastMap(a, Tensor(b.shape, data: tb), shape, *)
                    for i in 0..<t.count { t[i] += u[i] }
                }
                return t
            })
    }

    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let shape = Broadcast.shape(a.shape, b.shape)
        let out = broadcastMap(a, b, shape, /)
        return makeResult(
            op: "div", shape: shape, data: out, parents: [a, b],
            backward: { g in
                let gt = Tensor(shape, data: g)
                if a.requiresGrad { a.accumulateGrad(Broadcast.sum(broadcastMap(gt, b, shape, /), from: shape, to: a.shape)) }
                if b.requiresGrad {
                    // ∂(a/b)/∂b = −(a/b)/b
                    let q = broadcastMap(Tensor(shape, data: out), b, shape, /)
                    var gb = [Float](repeating: 0, count: q.count)
                    for i in 0..<q.count { gb[i] = -g[i] * q[i] }
                    b.accumulateGrad(Broadcast.sum(gb, from: shape, to: b.shape))
                }
            },
            jvp: {
                var t = [Float](repeating: 0, count: shape.reduce(1, *))
                if let ta = a.tangent { t = broadcastMap(Tensor(a.shape, data: ta), b, shape, /) }
                if let tb = b.tangent {
                    let q = broadcastMap(Tensor(shape, data: out), b, shape, /)
                    let tbe = Broadcast.expand(tb, from: b.shape, to: shape)
                    for i in 0..<t.count { t[i] -= q[i] * tbe[i] }
                }
                return t
            })
    }

    public static prefix func - (a: Tensor) -> Tensor { a.scaled(by: -1) }

    public static func + (a: Tensor, s: Float) -> Tensor { a.shifted(by: s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.shifted(by: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.shifted(by: -s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.scaled(by: -1).shifted(by: s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.scaled(by: s) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.scaled(by: s) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.scaled(by: 1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor { a.reciprocal().scaled(by: s) }

    /// `self * s` (linear; cheaper than a broadcast product).
    public func scaled(by s: Float) -> Tensor {
        Tensor.makeResult(
            op: "scale", shape: shape, data: data.map { $0 * s }, parents: [self],
            backward: { g in self.accumulateGrad(g.map { $0 * s }) },
            jvp: { self.tangentOrZeros.map { $0 * s } })
    }

    /// `self + s`.
    public func shifted(by s: Float) -> Tensor {
        Tensor.makeResult(
            op: "shift", shape: shape, data: data.map { $0 + s }, parents: [self],
            backward: { g in self.accumulateGrad(g) },
            jvp: { self.tangentOrZeros })
    }
}
