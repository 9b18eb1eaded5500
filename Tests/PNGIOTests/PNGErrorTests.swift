import Testing
@testable import PNGIO

@Test func errorMessagesNameThePath() {
    #expect(PNGError.read(path: "a.png", message: "bad").description.contains("a.png"))
}
