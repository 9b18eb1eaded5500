import Testing
import TensorCore
import Diffreps
import TestSupport

/// The pixel grid: every view is the whole image, its render is linear in the pixels (exact
/// derivatives), its views cost no randomness, and its parameter noise is unit white noise.
@Suite struct PixelImageTests {
    @Test func everyViewIsTheWholeImage() {
        let image = PixelImage(channels: 2, height: 3, width: 4)
        #expect(image.renderShape == [2, 3, 4] && image.pixels.shape == [2, 3, 4])
        #expect(image.pixels.data.allSatisfy { $0 == 0 }, "a fresh image is zero")
        image.pixels.data = (0..<24).map(Float.init)
        let views = GradMode.withoutGrad { image.render([(), (), ()]) }
        #expect(views.shape == [3, 2, 3, 4])
        #expect(views.data == image.pixels.data + image.pixels.data + image.pixels.data)
    }

    @Test func renderDerivatives() {
        let image = PixelImage(channels: 1, height: 2, width: 3)
        image.pixels.data = [0.5, -1, 2, 0, 0.25, -0.75]
        checkDerivatives(image.parameters.tensors, "pixel render") { _ in image.render([(), ()]).square() }
    }

    @Test func viewsDrawNothing() {
        let image = PixelImage(channels: 1, height: 2, width: 2)
        var rng = RandomGenerator(seed: 3), untouched = rng
        #expect(image.sampleViews(count: 5, using: &rng).count == 5)
        #expect(rng.normalValues(4) == untouched.normalValues(4))
    }

    @Test func parameterNoiseIsUnitWhiteNoiseOfTheSeed() throws {
        let image = PixelImage(channels: 3, height: 32, width: 32)
        var rng = RandomGenerator(seed: 8), again = RandomGenerator(seed: 8)
        let noise = try #require(image.parameterNoise(using: &rng))
        #expect(noise.count == 1 && noise[0].count == 3 * 32 * 32)
        let mean = noise[0].reduce(0, +) / Float(noise[0].count)
        let variance = noise[0].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(noise[0].count)
        #expect(abs(mean) < 0.06 && abs(variance - 1) < 0.08, "mean \(mean), variance \(variance)")
        #expect(image.parameterNoise(using: &again)! == noise)
    }
}
