import Testing
import TensorCore
import Diffreps
import TestSupport

/// The Fourier-feature image: derivatives in every weight, every view the whole image, a display
/// render that matches at the native size, the same network for the same seed, and no exact
/// parameter noise (a field cannot hold white noise).
@Suite struct FourierFieldImageTests {
    static func small(seed: UInt64 = 3) -> FourierFieldImage {
        FourierFieldImage(channels: 2, height: 3, width: 4, features: 4, scale: 1, hidden: 5, layers: 2, seed: seed)
    }

    @Test func renderDerivativesInEveryWeight() {
        let field = Self.small()
        checkDerivatives(field.parameters.tensors, epsilon: 1e-3, tolerance: 1e-2, "Fourier field render") { _ in
            field.render([(), ()])
        }
    }

    @Test func everyViewIsTheWholeImageAndTheDisplayRenderMatchesAtTheNativeSize() {
        let field = Self.small()
        let views = GradMode.withoutGrad { field.render([(), ()]) }
        #expect(views.shape == [2, 2, 3, 4])
        #expect(Array(views.data[0..<24]) == Array(views.data[24..<48]))
        assertClose(field.render(height: 3, width: 4).data, Array(views.data[0..<24]), rtol: 0, atol: 1e-6, "native-size display render")
        #expect(field.render(height: 9, width: 12).shape == [2, 9, 12])
    }

    @Test func theSameSeedGivesTheSameNetworkAndNoParameterNoise() {
        let a = Self.small(seed: 7)
        #expect(Self.small(seed: 7).parameters.tensors.map(\.data) == a.parameters.tensors.map(\.data))
        #expect(Self.small(seed: 8).parameters.tensors.map(\.data) != a.parameters.tensors.map(\.data))
        #expect(a.parameters.names == ["mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias", "out.weight", "out.bias"])
        #expect(a.parameters["mlp.0.weight"]!.shape == [5, 8], "2F = 8 features in, the frequencies fixed outside the parameters")
        var rng = RandomGenerator(seed: 1)
        #expect(a.parameterNoise(using: &rng) == nil)
    }
}
