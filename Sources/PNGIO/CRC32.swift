// CRC-32 (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320), the checksum of every PNG chunk.

enum CRC32 {
    /// Remainders of each byte value, reflected polynomial.
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes`; pass a previous result as `crc` to continue over more bytes.
    ///
    /// ```swift
    /// CRC32.checksum(Array("123456789".utf8))   // 0xCBF43926
    /// ```
    static func checksum(_ bytes: some Sequence<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }
}
