import Foundation

/// A seeded counter-based random generator (Philox4x32-10).
///
/// Value `i` of a draw depends only on the seed and the generator's position, never on
/// how many threads produced it, so the same seed gives bit-identical tensors everywhere.
///
/// ```swift
/// var rng = RandomGenerator(seed: 42)
/// let noise = rng.normal([3, 32, 32])      // N(0, 1)
/// let u = rng.uniform([4], in: -1...1)
/// ```
public struct RandomGenerator: Sendable {
    /// The seed this generator started from.
    public let seed: UInt64
    /// Number of 128-bit blocks consumed so far (the next draw starts here).
    public private(set) var position: UInt64 = 0

    public init(seed: UInt64) { self.seed = seed }

    /// A generator positioned at `position` blocks (to resume a checkpointed run).
    public init(seed: UInt64, position: UInt64) {
        self.seed = seed
        self.position = position
    }

    /// An independent generator for a named sub-stream (e.g. per view or per step).
    public func fork(_ stream: UInt64) -> RandomGenerator {
        RandomGenerator(seed: Philox.mix(seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)))
    }

    /// Uniform values in `[0, 1)`.
    public mutating func uniformValues(_ n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        let nb = (n + 3) / 4
        let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let start = position
        out.withUnsafeMutableBufferPointer { op in
            nonisolated(unsafe) let p = op.baseAddress!
            Parallel.forEach(nb, minChunk: 4096) { b in
                let c = start &+ UInt64(b)
                let r = Philox.block((UInt32(truncatingIfNeeded: c), UInt32(truncatingIfNeeded: c >> 32), 0, 0), key)
                let words = [r.0, r.1, r.2, r.3]
                for j in 0..<4 where b * 4 + j < n { p[b * 4 + j] = Philox.unit(words[j]) }
            }
        }
        position &+= UInt64(nb)
        return out
    }

    /// Standard normal values (Box–Muller on pairs of uniforms).
    public mutating func normalValues(_ n: Int) -> [Float] {
        let u = uniformValues(n + (n & 1))
        var out = [Float](repeating: 0, count: n)
        for i in stride(from: 0, to: n, by: 2) {
            let r = Foundation.sqrt(-2 * Foundation.log(Swift.max(1 - u[i], Float.leastNormalMagnitude)))
            let th = 2 * Float.pi * u[i + 1]
            out[i] = r * Foundation.cos(th)
            if i + 1 < n { out[i + 1] = r * Foundation.sin(th) }
        }
        return out
    }

    /// A tensor of `N(0, 1)` values.
    public mutating func normal(_ shape: [Int]) -> Tensor {
        Tensor(shape, data: normalValues(shape.reduce(1, *)))
    }

    /// A tensor of uniform values in `range`.
    public mutating func uniform(_ shape: [Int], in range: ClosedRange<Float> = 0...1) -> Tensor {
        let w = range.upperBound - range.lowerBound
        return Tensor(shape, data: uniformValues(shape.reduce(1, *)).map { range.lowerBound + w * $0 })
    }

    /// A uniform integer in `0..<n`.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        return Swift.min(Int(uniformValues(1)[0] * Float(n)), n - 1)
    }
}

/// The Philox4x32-10 block function (Salmon et al., SC'11).
enum Philox {
    static let m0: UInt32 = 0xD251_1F53, m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9, w1: UInt32 = 0xBB67_AE85

    @inline(__always)
    static func block(_ ctr: (UInt32, UInt32, UInt32, UInt32), _ key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = ctr, k = key
        for _ in 0..<10 {
            let p0 = UInt64(m0) * UInt64(c.0), p1 = UInt64(m1) * UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
                 UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
            k = (k.0 &+ w0, k.1 &+ w1)
        }
        return c
    }

    /// 24 random bits → [0, 1).
    @inline(__always) static func unit(_ x: UInt32) -> Float { Float(x >> 8) * (1.0 / 16_777_216.0) }

    /// SplitMix64 finaliser (derives sub-stream seeds).
    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
