import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The SIREN image diffrep: its render's derivatives in every weight (VJP against finite
/// differences, JVP against VJP), its views and display render, and the same network for the
/// same seed.
@Suite struct SirenImageTests {
    /// The paper's ω0 = 30 (the hardest case for finite differences); small enough to check every weight.
    static func small(seed: UInt64 = 2) -> SirenImage {
        SirenImage(channels: 3, height: 4, width: 5, hidden: 6, layers: 2, omega: 30, seed: seed)
    }

    @Test func renderDerivativesInEveryWeight() {
        let siren = Self.small()
        // ε = 10⁻³: a first-layer weight moves a phase by up to 30·ε, still well inside the
        // sine's quadratic range, so central differences are accurate to ~10⁻⁴.
        checkDerivatives(siren.parameters.tensors, epsilon: 1e-3, tolerance: 1e-2, "SIREN render") { _ in
            siren.render([(), ()])
        }
    }

    @Test func everyViewIsTheWholeImageAndTheDisplayRenderMatchesAtTheNativeSize() {
        let siren = Self.small()
        let views = GradMode.withoutGrad { siren.render([(), (), ()]) }
        #expect(views.shape == [3, 3, 4, 5])
        let one = Array(views.data[0..<60])
        #expect(Array(views.data[60..<120]) == one && Array(views.data[120..<180]) == one)
        assertClose(siren.render(height: 4, width: 5).data, one, rtol: 0, atol: 1e-6, "native-size display render")
        #expect(siren.render(height: 8, width: 10).shape == [3, 8, 10])
    }

    @Test func theSameSeedGivesTheSameNetwork() {
        let a = Self.small(seed: 7).parameters.tensors.map(\.data)
        #expect(Self.small(seed: 7).parameters.tensors.map(\.data) == a)
        #expect(Self.small(seed: 8).parameters.tensors.map(\.data) != a)
        #expect(Self.small().parameters.names == ["sine.0.weight", "sine.0.bias", "sine.1.weight", "sine.1.bias", "out.weight", "out.bias"])
    }
}
