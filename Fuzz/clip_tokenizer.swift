// libFuzzer target: CLIP tokenizer files and prompts → CLIPTokenizer(folder:) and encode.
// The first byte picks what the rest is: a prompt (encoded by the SD 1 and SD 2 test-fixture
// tokenizers, both variants); a tokenizer.json; a tokenizer_config.json beside the fixture's
// vocab.json + merges.txt; or a vocab.json and a merges.txt (split at the first 0 byte). A
// tokenizer that loads encodes the rest as a prompt too. Every encoding must keep the length
// invariants: padded = maxLength ids, start first, end last before the padding.
import Foundation
import Tokenizers

/// The committed fixtures (Fuzz/run.sh runs from the repository root).
let fixtures = URL(fileURLWithPath: "Tests/TokenizersTests/Fixtures")
let fixtureTokenizers: [CLIPTokenizer] = ["sd1", "sd2"].flatMap { name in
    CLIPTokenizer.Variant.allCases.map { try! CLIPTokenizer(folder: fixtures.appendingPathComponent(name), variant: $0) }
}
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-clip-tokenizer-\(getpid())")

func checkEncodings(_ tokenizer: CLIPTokenizer, _ text: String) {
    let padded = tokenizer.encode(text)
    let truncated = tokenizer.encode(text, length: .truncated)
    let full = tokenizer.encode(text, length: .full)
    precondition(padded.count == tokenizer.maxLength && padded.first == tokenizer.startID, "padded length")
    precondition(truncated.count <= tokenizer.maxLength && truncated.last == tokenizer.endID, "truncated length")
    precondition(full.count > tokenizer.maxLength ? truncated.count == tokenizer.maxLength : truncated == full, "truncation")
    precondition(Array(padded.prefix(truncated.count)) == truncated, "padding after the end token")
    precondition(tokenizer.tokens(text).count == full.count - 2, "tokens and ids")
}

func write(_ files: [(String, Data)]) {
    try? FileManager.default.removeItem(at: scratch)
    try! FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    for (name, data) in files { try! data.write(to: scratch.appendingPathComponent(name)) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCLIPTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = Data(bytes: data + 1, count: size - 1)
    let text = String(decoding: rest, as: UTF8.self)
    switch data[0] % 4 {
    case 0:
        for tokenizer in fixtureTokenizers { checkEncodings(tokenizer, text) }
        return 0
    case 1:
        write([("tokenizer.json", rest)])
    case 2:
        let vocab = try! Data(contentsOf: fixtures.appendingPathComponent("sd1/vocab.json"))
        let merges = try! Data(contentsOf: fixtures.appendingPathComponent("sd1/merges.txt"))
        write([("vocab.json", vocab), ("merges.txt", merges), ("tokenizer_config.json", rest)])
    default:
        let cut = rest.firstIndex(of: 0) ?? rest.endIndex
        write([("vocab.json", rest[rest.startIndex..<cut]), ("merges.txt", cut < rest.endIndex ? rest[(cut + 1)...] : Data())])
    }
    for variant in CLIPTokenizer.Variant.allCases {
        guard let tokenizer = try? CLIPTokenizer(folder: scratch, variant: variant) else { return 0 }
        checkEncodings(tokenizer, "a photo of a cat, 3 ΟΔΟΣ 猫 <|endoftext|>!")
        checkEncodings(tokenizer, text)
    }
    return 0
}
