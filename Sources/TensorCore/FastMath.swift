/// Branch-free elementwise math that the compiler vectorises in plain loops (libm's `expf`
/// is a call per element and stops vectorisation): used by softmax, attention, SiLU and the
/// NeRF field activations. Inlinable, so loops in other modules vectorise them too.
///
/// ```swift
/// FastMath.exp(1)          // 2.7182817
/// ```
public enum FastMath {
    /// `exp(x)` with relative error below 1e-7 (Cephes' `expf` polynomial), clamped to
    /// `[exp(−87), exp(88)]` so it never overflows.
    @inlinable @inline(__always) public static func exp(_ x: Float) -> Float {
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

    /// ``exp(_:)-(Float)`` on four lanes, lane for lane the same numbers (the same clamps,
    /// constants and order of operations), in vector instructions.
    ///
    /// ```swift
    /// FastMath.exp(SIMD4<Float>(0, 1, -1, 2))    // [1, 2.7182817, 0.36787945, 7.389056]
    /// ```
    @inlinable @inline(__always) public static func exp(_ x: SIMD4<Float>) -> SIMD4<Float> {
        var xc = x
        xc.replace(with: -87, where: x .< -87)
        xc.replace(with: 88, where: xc .> 88)
        let magic = SIMD4<Float>(repeating: 12_582_912)
        let t = xc * 1.442_695_04 + magic
        let n = t - magic
        var r = xc - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = SIMD4<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let y = p * (r * r) + r + 1
        let bits = (unsafeBitCast(t, to: SIMD4<Int32>.self) &- 0x4B40_0000 &+ 127) &* 8_388_608   // (n + 127)·2²³
        return y * unsafeBitCast(bits, to: SIMD4<Float>.self)
    }

    /// `tanh(x)` with absolute error below 2e-7.
    @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float {
        let e = exp(2 * x)
        return (e - 1) / (e + 1)
    }

    /// `eˣ` on eight lanes for `x ≤ 88` (softmax feeds it `x − max ≤ 0`): Cephes' `expf`
    /// (range reduction by ln 2, degree-6 polynomial; within 2 ulp of `expf`), 0 below −87.3.
    /// Only concrete-type SIMD arithmetic, which compiles to vector instructions (generic SIMD
    /// conversions and pointwise min/max do not).
    @inlinable @inline(__always)
    public static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // n = round(x·log₂e) by the 1.5·2²³ trick: the sum's low mantissa bits hold n.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        let r = (x - n * 0.693359375) - n * -2.12194440e-4   // x − n·ln 2 in two parts
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = p * (r * r) + r + 1
        // 2ⁿ from its bits: (n + 127)·2²³
        let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((ni &+ 127) &* 8_388_608, to: SIMD8<Float>.self)
        var out = e * scale
        out.replace(with: 0, where: x .< -87.33654)   // underflow (and −∞)
        return out
    }
}
