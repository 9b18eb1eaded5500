// libFuzzer target: PNG bytes → PNG.decode, as stored and converted to 1…4 channels.
// libpng refuses a critical chunk with a wrong CRC, so a mutated chunk would rarely get past the
// checksum; the target therefore rewrites every chunk's CRC before decoding (and decodes the
// input as given too, for odd sizes). libpng itself is not instrumented: coverage guides only
// the Swift side, which is why the seeds and the dictionary matter here.
import PNGIO

/// CRC-32 of PNG chunks (polynomial 0xEDB88320).
let crcTable: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

/// `bytes` with the CRC of every complete chunk after the 8-byte signature recomputed.
func withChunkCRCsFixed(_ bytes: [UInt8]) -> [UInt8] {
    var out = bytes
    var p = 8
    while p + 12 <= out.count {
        let length = out[p..<p + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= out.count - p - 12 else { break }
        var c: UInt32 = ~0
        for b in out[(p + 4)..<(p + 8 + length)] { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        c = ~c
        for k in 0..<4 { out[p + 8 + length + k] = UInt8(truncatingIfNeeded: c >> (24 - 8 * UInt32(k))) }
        p += 12 + length
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNGDecode(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let given = Array(UnsafeBufferPointer(start: data, count: size))
    if size % 2 == 1 { _ = try? PNG.decode(given) }
    let bytes = withChunkCRCsFixed(given)
    guard let image = try? PNG.decode(bytes) else { return 0 }
    precondition(image.pixels.count == image.width * image.height * image.channels)
    // The requested channel count comes from the input so every conversion gets exercised.
    _ = try? PNG.decode(bytes, channels: 1 + Int(bytes[size / 2] % 4))
    _ = image.tensor()
    return 0
}
