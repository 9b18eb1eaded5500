// The element types this package reads and writes in safetensors files, and their
// conversions to and from Float32 (little-endian).

extension SafeTensors {
    /// A safetensors element type readable as Float32. `I64` is there for the integer buffers
    /// older transformers checkpoints carry (a CLIP text encoder's `position_ids`): read as
    /// Float32 (exact up to 2²⁴), written rounded to the nearest integer.
    ///
    /// ```swift
    /// try SafeTensors.save(weights, dtype: .f16, to: url)   // half the size; read back as Float32
    /// ```
    public enum DType: String, Sendable, CaseIterable {
        /// IEEE single precision.
        case f32 = "F32"
        /// IEEE half precision.
        case f16 = "F16"
        /// bfloat16 (the top half of a Float32).
        case bf16 = "BF16"
        /// Signed 64-bit integers.
        case i64 = "I64"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .f32: return 4
            case .f16, .bf16: return 2
            case .i64: return 8
            }
        }
    }

    /// Every dtype name the safetensors format defines (so an error can tell an unsupported
    /// one from a misspelt one).
    static let knownDTypes: Set<String> = [
        "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
        "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64", "C64",
    ]

    /// Decodes `count` little-endian elements at `src` into Float32.
    static func decode(_ dtype: DType, _ src: UnsafeRawPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))) }
            case .f16:
                for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))) }
            case .bf16:
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))) << 16) }
            case .i64:
                for i in 0..<count { out[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))) }
            }
            initialized = count
        }
    }

    /// Encodes Float32 values as little-endian `dtype` elements at `dst`
    /// (F16 and BF16 round to nearest even, as PyTorch's conversions do).
    static func encode(_ dtype: DType, _ values: [Float], into dst: UnsafeMutableRawPointer) {
        values.withUnsafeBufferPointer { v in
            switch dtype {
            case .f32:
                for i in 0..<v.count { dst.storeBytes(of: v[i].bitPattern.littleEndian, toByteOffset: i &* 4, as: UInt32.self) }
            case .f16:
                for i in 0..<v.count { dst.storeBytes(of: Float16(v[i]).bitPattern.littleEndian, toByteOffset: i &* 2, as: UInt16.self) }
            case .bf16:
                for i in 0..<v.count { dst.storeBytes(of: bfloat16Bits(v[i]).littleEndian, toByteOffset: i &* 2, as: UInt16.self) }
            case .i64:
                for i in 0..<v.count {
                    let x = v[i].rounded()
                    let n: Int64 = x.isNaN ? 0 : (x >= 0x1p63 ? .max : (x < -0x1p63 ? .min : Int64(x)))
                    dst.storeBytes(of: n.littleEndian, toByteOffset: i &* 8, as: Int64.self)
                }
            }
        }
    }

    /// The bfloat16 bits of `x`, rounded to nearest even (NaN stays a quiet NaN).
    @inline(__always) static func bfloat16Bits(_ x: Float) -> UInt16 {
        if x.isNaN { return UInt16(truncatingIfNeeded: x.bitPattern >> 16) | 0x0040 }
        let b = x.bitPattern
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }
}
