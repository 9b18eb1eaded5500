import TensorCore

/// The simplest diffrep: an image stored as its own pixels, `θ = x` (the render is the
/// identity). On it the pullback sampler *is* DDIM — the exactness test of the method.
///
/// ```swift
/// let image = PixelImage(channels: 3, height: 32, width: 32)
/// image.render([()]).shape   // [1, 3, 32, 32]
/// ```
public final class PixelImage: Diffrep {
    public typealias View = Void
    public let parameters: Parameters
    public let renderShape: [Int]
    /// `[C, H, W]`
    public var pixels: Tensor { parameters["pixels"]! }

    public init(channels: Int, height: Int, width: Int) {
        renderShape = [channels, height, width]
        parameters = Parameters([("pixels", Tensor.zeros(renderShape))])
    }

    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] {
        [Void](repeating: (), count: count)
    }

    /// Every view is the whole image: `[K, C, H, W]`.
    public func render(_ views: [Void]) -> Tensor {
        pixels.reshaped([1] + renderShape).expanded(to: [views.count] + renderShape)
    }

    public func parameterNoise(using rng: inout RandomGenerator) -> [[Float]]? {
        [rng.normalValues(pixels.count)]
    }
}
