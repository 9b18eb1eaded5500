// SHA-256 against FIPS 180-4 vectors and Python's hashlib.

import Foundation
import Testing
import RunSupport

@Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    // Padding edges: 55 bytes fit one block, 56 and 64 need a second.
    (String(repeating: "x", count: 55), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"),
    (String(repeating: "x", count: 56), "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"),
    (String(repeating: "x", count: 64), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"),
])
func sha256KnownVectors(message: String, hex: String) {
    #expect(SHA256.hash(Array(message.utf8)).hex == hex)
}

/// 1 000 000 bytes `(i·131 + 17) mod 256`; its digest computed once with Python's hashlib:
/// `hashlib.sha256(bytes((i*131+17)%256 for i in range(1000000))).hexdigest()`.
private let megabyte = (0..<1_000_000).map { UInt8(($0 * 131 + 17) % 256) }
private let megabyteHex = "35915a348296a4a5f896efc38bccb1e22373bf6111e798a8a54b88a2a795fb7d"

@Test func sha256OfOneMegabyteMatchesHashlib() {
    #expect(SHA256.hash(megabyte).hex == megabyteHex)
    // A million 'a' (FIPS 180-4 long-message vector).
    #expect(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hex
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

@Test func sha256IncrementalUpdatesInOddChunksMatchOneShot() {
    var hash = SHA256()
    var offset = 0, size = 1
    while offset < megabyte.count {
        let end = min(megabyte.count, offset + size)
        hash.update(megabyte[offset..<end])
        offset = end
        size = size * 7 % 1013 + 1          // 1, 8, 57, 400, …: crosses block edges every way
    }
    #expect(hash.finalize().hex == megabyteHex)
}

@Test func sha256OfFileStreamsInChunks() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    // 2.5 MiB + 3 bytes: several 1 MiB reads and a ragged tail.
    let bytes = (0..<(5 << 19) + 3).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    try Data(bytes).write(to: folder.file("blob.bin"))
    #expect(try SHA256.hash(fileAt: folder.file("blob.bin").path) == SHA256.hash(bytes))
    let missing = thrownMessage { _ = try SHA256.hash(fileAt: folder.file("missing").path) }
    #expect(missing?.contains("No such file") == true, "\(missing ?? "no error")")
}
