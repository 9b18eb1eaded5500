import Foundation
import TensorCore

/// An image as a SIREN (Sitzmann et al. 2020), the paper's image diffrep: an MLP with sine
/// activations `sin(ω0·(W x + b))` mapping pixel-centre coordinates `(u, v) ∈ [-1, 1]²` to the
/// channels (a linear last layer, so the output is in the denoiser's data range). Like
/// ``FourierFieldImage`` it renders at any size and cannot hold arbitrary pixel noise exactly;
/// unlike it, the frequencies are not fixed features but weights the sampler moves.
///
/// ```swift
/// let siren = SirenImage(channels: 3, height: 32, width: 32, seed: 0)
/// siren.render([()]).shape                        // [1, 3, 32, 32]
/// let big = siren.render(height: 128, width: 128)  // [3, 128, 128]
/// ```
public final class SirenImage: Diffrep {
    public typealias View = Void
    public let parameters: Parameters
    public let renderShape: [Int]
    let network: SineNetwork
    /// Scales Adam-based solves and SDS/SJC (``Diffrep/optimizerStepScale``): a weight moves the
    /// render through `ω0`, so steps in image units scramble it. 0.01 measured (SDS and the Adam
    /// solve on the toys, 32×32): 1 and 0.1 end as noise or flat colour, 0.001 blurred and unfinished.
    public var optimizerStepScale: Float = 0.01
    /// Pixel centres at the native size, `[H·W, 2]`.
    private let points: Tensor

    /// - Parameters:
    ///   - hidden: width of every sine layer; `layers` sine layers, then a linear layer.
    ///   - omega: `ω0` of the first layer: the frequency scale of the coordinates (larger = finer
    ///     detail). 10 by default, measured at 32×32: the paper's 30 (for images of hundreds of
    ///     pixels) puts detail between the pixel centres, so renders at other sizes show noise
    ///     (docs/DESIGN.md §2 "Diffreps").
    ///   - seed: seeds SIREN's initialisation.
    public init(channels: Int, height: Int, width: Int, hidden: Int = 64, layers: Int = 3, omega: Float = 10,
                seed: UInt64 = 0) {
        precondition(layers >= 1, "a SIREN needs at least one sine layer")
        renderShape = [channels, height, width]
        network = SineNetwork(inputs: 2, hidden: hidden, sineLayers: layers, outputs: channels, firstOmega: omega)
        var rng = RandomGenerator(seed: seed)
        parameters = Parameters(network.initialParameters(using: &rng))
        points = PixelCoordinates.centres(height: height, width: width)
    }

    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] {
        [Void](repeating: (), count: count)
    }

    /// `[K, C, H, W]` at the native size (every view is the whole image).
    public func render(_ views: [Void]) -> Tensor {
        let (c, h, w) = (renderShape[0], renderShape[1], renderShape[2])
        return network(points, parameters).transposed().reshaped([1, c, h, w]).expanded(to: [views.count, c, h, w])
    }

    /// `[C, H, W]` at any size (for display; not differentiable).
    public func render(height: Int, width: Int) -> Tensor {
        GradMode.withoutGrad {
            network(PixelCoordinates.centres(height: height, width: width), parameters)
                .transposed().reshaped([renderShape[0], height, width])
        }
    }
}
