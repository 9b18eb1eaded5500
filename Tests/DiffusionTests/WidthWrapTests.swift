import Foundation
import Testing
import TensorCore
import TestSupport
@testable import Diffusion

/// Decoding a 360° latent strip with the width wrapping around (``WidthWrap``): the decoder then
/// commutes with turning the strip, so the picture's right edge continues into its left edge as
/// any two neighbouring columns do — the seam does not show. Checked on the tiny sd1 and sd2
/// pipelines' VAEs (random weights, made by diffusers).
@Suite struct WidthWrapTests {
    /// `[N, C, H, W]` turned by `k` columns: column `j` of the result is column `(j − k) mod W`.
    static func turned(_ x: Tensor, by k: Int) -> Tensor {
        let w = x.shape[3]
        return x.gather(indices: (0..<w).map { (($0 - k) % w + w) % w }, axis: 3)
    }

    static func strip(channels: Int, height: Int, width: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor([1, channels, height, width], data: rng.normalValues(channels * height * width))
    }

    /// Turning the latents by `k` turns the decoded panorama by `k·f` — so the seam (last column
    /// next to the first) is, in the turned picture, an ordinary interior pair of columns. The plain
    /// decode (zero padding at the strip's ends) does not turn: this test can tell the two apart.
    @Test(arguments: ["sd1", "sd2"])
    func decodedPanoramaTurnsWithItsLatents(_ name: String) throws {
        let sd = try StableDiffusionPipeline(contentsOf: try fixtureURL("sd_pipeline_\(name)"))
        let f = sd.vae.downsamplingFactor
        let z = Self.strip(channels: sd.vae.config.latentChannels, height: 4, width: 12, seed: 3)      // [1, 4, 4, 12]
        let picture = GradMode.withoutGrad { sd.decodePanorama(z, sigma: 0) }                         // [1, 3, 4f, 12f]
        #expect(picture.shape == [1, 3, 4 * f, 12 * f])
        let scale = picture.data.reduce(0) { max($0, abs($1)) }
        for k in [1, 6, 11] {
            let turnedPicture = GradMode.withoutGrad { sd.decodePanorama(Self.turned(z, by: k), sigma: 0) }
            let err = largestDifference(turnedPicture.data, Self.turned(picture, by: k * f).data)
            #expect(err <= 1e-4 * scale, "\(name), turn \(k): decode(turn(z)) differs from turn(decode(z)) by \(err) (scale \(scale))")
        }
        let plain = GradMode.withoutGrad { sd.decodeImage(z, sigma: 0) }
        let plainTurned = GradMode.withoutGrad { sd.decodeImage(Self.turned(z, by: 6), sigma: 0) }
        #expect(largestDifference(plainTurned.data, Self.turned(plain, by: 6 * f).data) > 1e-2 * scale,
                "the plain decode turned with its latents too: the check above could not fail")
    }

    /// The left and right edges join: the decoded panorama's last and first columns are exactly the
    /// two middle columns of the panorama decoded from the strip turned by half its width, where
    /// they are interior neighbours with decoder context on both sides. (With the plain decode they
    /// are not: it sees zeros beyond each end.)
    @Test func leftAndRightEdgesJoin() throws {
        let sd = try StableDiffusionPipeline(contentsOf: try fixtureURL("sd_pipeline_sd1"))
        let z = Self.strip(channels: 4, height: 4, width: 16, seed: 8)
        let picture = GradMode.withoutGrad { sd.decodePanorama(z, sigma: 0) }                         // [1, 3, 8, 32]
        let halfTurn = GradMode.withoutGrad { sd.decodePanorama(Self.turned(z, by: 8), sigma: 0) }     // seam in the middle
        let plain = GradMode.withoutGrad { sd.decodeImage(z, sigma: 0) }
        let plainHalfTurn = GradMode.withoutGrad { sd.decodeImage(Self.turned(z, by: 8), sigma: 0) }
        let (rows, w) = (picture.shape[1] * picture.shape[2], picture.shape[3])
        func column(_ t: Tensor, _ j: Int) -> [Float] { (0..<rows).map { t.data[$0 * w + j] } }
        let scale = picture.data.reduce(0) { max($0, abs($1)) }
        let seam = column(picture, w - 1) + column(picture, 0)
        #expect(largestDifference(seam, column(halfTurn, w / 2 - 1) + column(halfTurn, w / 2)) <= 1e-4 * scale)
        let plainSeam = column(plain, w - 1) + column(plain, 0)
        #expect(largestDifference(plainSeam, column(plainHalfTurn, w / 2 - 1) + column(plainHalfTurn, w / 2)) > 1e-2 * scale,
                "the plain decode's edges would join too: the check above could not fail")
    }

    /// The wrapped convolutions' derivatives (circular width pad, zero height pad, then the
    /// convolution) against finite differences, and JVP against VJP, through the whole decoder.
    @Test func wrappedDecodeDerivatives() throws {
        let sd = try StableDiffusionPipeline(contentsOf: try fixtureURL("sd_pipeline_sd1"))
        let z = Self.strip(channels: 4, height: 2, width: 3, seed: 4)
        z.requiresGrad = true
        checkDerivatives([z], epsilon: 1e-2, tolerance: 2e-2, "wrapped VAE decode") { inputs in
            sd.vae.decode(scaledLatents: inputs[0], wrappingWidth: true)
        }
    }

    /// Outside ``WidthWrap/wrapping(_:)`` nothing changes: the flag is off, and a decode is bit-identical before and after a wrapped one.
    @Test func wrapIsScoped() throws {
        let sd = try StableDiffusionPipeline(contentsOf: try fixtureURL("sd_pipeline_sd1"))
        let z = Self.strip(channels: 4, height: 4, width: 4, seed: 5)
        let before = GradMode.withoutGrad { sd.decodeImage(z, sigma: 0) }.data
        _ = GradMode.withoutGrad { sd.decodePanorama(z, sigma: 0) }
        #expect(!WidthWrap.isOn)
        #expect(GradMode.withoutGrad { sd.decodeImage(z, sigma: 0) }.data == before)
    }
}

/// max |a − b|
private func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
