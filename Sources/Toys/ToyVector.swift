import Foundation

/// A small 3-vector for the toy renderer's inner loops (plain stored floats, always inlined:
/// predictable speed in `-O`, unlike generic SIMD code paths). Public APIs use `SIMD3<Float>`.
struct ToyVec: Sendable, Equatable {
    var x: Float, y: Float, z: Float

    @inline(__always) init(_ x: Float, _ y: Float, _ z: Float) { self.x = x; self.y = y; self.z = z }
    @inline(__always) init(_ v: SIMD3<Float>) { x = v.x; y = v.y; z = v.z }
    @inline(__always) var simd: SIMD3<Float> { SIMD3(x, y, z) }

    static let zero = ToyVec(0, 0, 0)

    @inline(__always) static func + (a: ToyVec, b: ToyVec) -> ToyVec { ToyVec(a.x + b.x, a.y + b.y, a.z + b.z) }
    @inline(__always) static func - (a: ToyVec, b: ToyVec) -> ToyVec { ToyVec(a.x - b.x, a.y - b.y, a.z - b.z) }
    @inline(__always) static func * (a: ToyVec, s: Float) -> ToyVec { ToyVec(a.x * s, a.y * s, a.z * s) }
    @inline(__always) static func * (s: Float, a: ToyVec) -> ToyVec { ToyVec(a.x * s, a.y * s, a.z * s) }

    @inline(__always) func dot(_ b: ToyVec) -> Float { x * b.x + y * b.y + z * b.z }
    @inline(__always) var lengthSquared: Float { x * x + y * y + z * z }
    @inline(__always) var length: Float { lengthSquared.squareRoot() }
    @inline(__always) var normalized: ToyVec { self * (1 / length) }
    @inline(__always) func cross(_ b: ToyVec) -> ToyVec {
        ToyVec(y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x)
    }
}
