// libFuzzer target: safetensors bytes → SafeTensors.parseContents.
import Foundation
import SafeTensors

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? SafeTensors.parseContents(Data(bytes: data, count: size))
    return 0
}
