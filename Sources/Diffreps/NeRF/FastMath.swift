/// Branch-free elementwise math that the compiler vectorises in plain loops (libm's `expf`
/// is a call per element and stops vectorisation): used by the fused field activations.
enum FastMath {
    /// `exp(x)` with relative error below 1e-7 (Cephes' `expf` polynomial), clamped to
    /// `[exp(−87), exp(88)]` so it never overflows.
    @inline(__always) static func exp(_ x: Float) -> Float {
        let lo: Float = x < -87 ? -87 : x
        let xc: Float = lo > 88 ? 88 : lo
        // Round x·log2(e) to the nearest integer n with the 1.5·2²³ trick: n sits in t's low mantissa bits.
        let t = xc * 1.442_695_04 + 12_582_912
        let n = t - 12_582_912
        var r = xc - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4              // r = x − n·ln 2 in two steps (Cody–Waite)
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let y = p * (r * r) + r + 1
        return y * Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)   // · 2ⁿ
    }

    /// `tanh(x)` with absolute error below 2e-7.
    @inline(__always) static func tanh(_ x: Float) -> Float {
        let e = exp(2 * x)
        return (e - 1) / (e + 1)
    }
}
