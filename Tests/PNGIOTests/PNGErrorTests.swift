import Testing
@testable import PNGIO

@Test func errorMessagesNameThePath() {
    #expect(PNGError.read(path: "a.png", message: "bad").description.contains("a.png"))
    #expect(PNGError.write(path: "out/b.png", message: "No such file or directory").description
        == "cannot write PNG 'out/b.png': No such file or directory")
    #expect(PNGError.invalidImage(message: "no frames").description == "invalid image: no frames")
}
