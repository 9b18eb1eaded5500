import Foundation

// Elementwise math and activations. Each op gives its value `y = f(x)` and derivative
// `f'(x)` (which may use `y`); VJP is `g·f'`, JVP is `f'·t`.

extension Tensor {
    /// An elementwise op from its value and its derivative `df(x, y)`.
    @inline(__always)
    public func unary(_ op: String, _ f: (Float) -> Float,
                      _ df: @escaping (Float, Float) -> Float) -> Tensor {
        var y = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                for i in 0..<x.count { yp[i] = f(x[i]) }
            }
        }
        let out = y
        return Tensor.makeResult(
            op: op, shape: shape, data: out, parents: [self],
            backward: { g in
                self.accumulateGrad { dst in
                    self.data.withUnsafeBufferPointer { x in
                        for i in 0..<dst.count { dst[i] += g[i] * df(x[i], out[i]) }
                    }
                }
            },
            jvp: {
                guard let t = self.tangent else { return [Float](repeating: 0, count: out.count) }
                var r = [Float](repeating: 0, count: out.count)
                for i in 0..<r.count { r[i] = t[i] * df(self.data[i], out[i]) }
                return r
            })
    }

    // MARK: Math

    public func exp() -> Tensor { unary("exp", { Foundation.exp($0) }, { _, y in y }) }
    public func log() -> Tensor { unary("log", { Foundation.log($0) }, { x, _ in 1 / x }) }
    public func sqrt() -> Tensor { unary("sqrt", { Foundation.sqrt($0) }, { _, y in 0.5 / y }) }
    public func sin() -> Tensor { unary("sin", { Foundation.sin($0) }, { x, _ in Foundation.cos(x) }) }
    public func cos() -> Tensor { unary("cos", { Foundation.cos($0) }, { x, _ in -Foundation.sin(x) }) }
    public func tanh() -> Tensor { unary("tanh", { Foundation.tanh($0) }, { _, y in 1 - y * y }) }
    public func square() -> Tensor { unary("square", { $0 * $0 }, { x, _ in 2 * x }) }
    public func abs() -> Tensor { unary("abs", { Swift.abs($0) }, { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func reciprocal() -> Tensor { unary("reciprocal", { 1 / $0 }, { _, y in -y * y }) }
    /// `x^p` for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        unary("pow", { Foundation.pow($0, p) }, { x, _ in p * Foundation.pow(x, p - 1) })
    }

    /// Clamps to `[lo, hi]` (gradient passes only strictly inside).
    public func clamped(_ lo: Float, _ hi: Float) -> Tensor {
        unary("clamp", { Swift.min(Swift.max($0, lo), hi) }, { x, _ in (x > lo && x < hi) ? 1 : 0 })
    }

    // MARK: Activations

    /// `max(x, 0)`, with its own loops (the generic ``unary(_:_:_:)`` calls a closure per
    /// element; hidden layers of NeRF MLPs run it on millions): the same values and derivatives.
    public func relu() -> Tensor {
        let n = count
        let y = uninitializedFloats(n) { out in
            data.withUnsafeBufferPointer { x in for i in 0..<n { out[i] = Swift.max(x[i], 0) } }
        }
        /// `t[i]·[x[i] > 0]`, added to `out` or written.
        let masked = { (t: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, add: Bool) in
            self.data.withUnsafeBufferPointer { xb in
                let x = xb.baseAddress!
                if add {
                    for i in 0..<n { out[i] += t[i] * (x[i] > 0 ? 1 : 0) }
                } else {
                    for i in 0..<n { out[i] = t[i] * (x[i] > 0 ? 1 : 0) }
                }
            }
        }
        return Tensor.makeResult(
            op: "relu", shape: shape, data: y, parents: [self],
            backward: { g in
                guard n > 0 else { return }
                g.withUnsafeBufferPointer { gp in self.accumulateGrad { dst in masked(gp.baseAddress!, dst.baseAddress!, true) } }
            },
            jvp: {
                guard let t = self.tangent else { return [Float](repeating: 0, count: n) }
                return t.withUnsafeBufferPointer { tp in uninitializedFloats(n) { masked(tp.baseAddress!, $0, false) } }
            })
    }

    public func sigmoid() -> Tensor { unary("sigmoid", { Tensor.sigmoid($0) }, { _, y in y * (1 - y) }) }

    /// `x·σ(x)` (also called swish). Fused and vectorised (eight lanes), as every UNet layer
    /// uses it: the forward keeps `σ(x)` for the derivative `σ(x)·(1 + x·(1 − σ(x)))`.
    public func silu() -> Tensor {
        let n = count
        let sig = uninitializedFloats(n) { s in data.withUnsafeBufferPointer { Tensor.sigmoid8($0.baseAddress!, s, n) } }
        let y = uninitializedFloats(n) { out in
            data.withUnsafeBufferPointer { xb in sig.withUnsafeBufferPointer { sb in
                let x = xb.baseAddress!, s = sb.baseAddress!
                for i in 0..<n { out[i] = x[i] * s[i] }
            } }
        }
        /// `out[i] (+)= t[i]·σ'(x[i])` with `σ' = σ·(1 + x·(1 − σ))`.
        let derivative = { (t: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, add: Bool) in
            self.data.withUnsafeBufferPointer { xb in sig.withUnsafeBufferPointer { sb in
                let x = xb.baseAddress!, s = sb.baseAddress!
                if add {
                    for i in 0..<n { out[i] += t[i] * (s[i] * (1 + x[i] * (1 - s[i]))) }
                } else {
                    for i in 0..<n { out[i] = t[i] * (s[i] * (1 + x[i] * (1 - s[i]))) }
                }
            } }
        }
        return Tensor.makeResult(
            op: "silu", shape: shape, data: y, parents: [self],
            backward: { g in
                guard self.requiresGrad else { return }
                g.withUnsafeBufferPointer { gb in
                    if self.grad == nil {
                        self.grad = uninitializedFloats(n) { derivative(gb.baseAddress!, $0, false) }
                    } else {
                        self.grad!.withUnsafeMutableBufferPointer { derivative(gb.baseAddress!, $0.baseAddress!, true) }
                    }
                }
            },
            jvp: {
                guard let t = self.tangent else { return [Float](repeating: 0, count: n) }
                return t.withUnsafeBufferPointer { tb in uninitializedFloats(n) { derivative(tb.baseAddress!, $0, false) } }
            })
    }

    /// `s[i] = 1/(1 + e^{−x[i]})` eight lanes at a time.
    static func sigmoid8(_ x: UnsafePointer<Float>, _ s: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let one = SIMD8<Float>(repeating: 1), cap = SIMD8<Float>(repeating: 88)
        while i &+ 8 <= n {
            var negated = -UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            negated.replace(with: cap, where: negated .> cap)
            let v = one / (one + FastMath.exp8(negated))
            UnsafeMutableRawPointer(s + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < n { s[i] = sigmoid(x[i]); i &+= 1 }
    }

    /// `log(1 + eˣ)`, computed stably.
    public func softplus() -> Tensor {
        unary("softplus", { x in x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }, { x, _ in Tensor.sigmoid(x) })
    }

    /// Exact GELU `x·Φ(x)` (PyTorch's default, `approximate='none'`).
    public func gelu() -> Tensor {
        unary("gelu", { x in 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot().float)) }, { x, _ in
            let cdf = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot().float))
            let pdf = Foundation.exp(-0.5 * x * x) / (2 * Float.pi).squareRoot()
            return cdf + x * pdf
        })
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : { let e = Foundation.exp(x); return e / (1 + e) }()
    }
}

extension Double {
    @inline(__always) var float: Float { Float(self) }
}
