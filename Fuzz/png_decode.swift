// libFuzzer target: PNG bytes → PNG.decode, as stored and converted to 1…4 channels.
import PNGIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNGDecode(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? PNG.decode(bytes) else { return 0 }
    precondition(image.pixels.count == image.width * image.height * image.channels)
    // The requested channel count comes from the input so every conversion gets exercised.
    _ = try? PNG.decode(bytes, channels: 1 + Int(bytes[size / 2] % 4))
    return 0
}
