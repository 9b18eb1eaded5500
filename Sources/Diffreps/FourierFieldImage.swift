import Foundation
import TensorCore

/// An image as a neural field: a small MLP on random Fourier features of the pixel-centre
/// coordinates `(u, v) ∈ [-1, 1]²` (Tancik et al. 2020). It renders at any size and cannot
/// hold arbitrary pixel noise exactly — the implicit constraint in its simplest form.
///
/// ```swift
/// let field = FourierFieldImage(channels: 3, height: 32, width: 32, seed: 0)
/// let big = field.render(height: 128, width: 128)   // [3, 128, 128]
/// ```
public final class FourierFieldImage: Diffrep {
    public typealias View = Void
    public let parameters: Parameters
    public let renderShape: [Int]
    /// Random frequency matrix `[2, F]` (fixed, not trained).
    let frequencies: Tensor
    let layers: Int
    private let featureCache: Tensor

    /// - Parameters:
    ///   - features: number of Fourier frequencies `F` (the encoding has `2F` values).
    ///   - scale: standard deviation of the frequencies (higher = finer detail).
    ///   - hidden: MLP width; `layers` hidden layers with SiLU.
    public init(channels: Int, height: Int, width: Int, features: Int = 64, scale: Float = 4,
                hidden: Int = 64, layers: Int = 2, seed: UInt64 = 0) {
        renderShape = [channels, height, width]
        var rng = RandomGenerator(seed: seed)
        frequencies = rng.normal([2, features]).scaled(by: scale).detached()
        var params: [(String, Tensor)] = []
        var fanIn = 2 * features
        for l in 0..<layers {
            let b = 1 / Float(fanIn).squareRoot() * Float(3).squareRoot()
            params.append(("mlp.\(l).weight", rng.uniform([hidden, fanIn], in: -b...b)))
            params.append(("mlp.\(l).bias", Tensor.zeros([hidden])))
            fanIn = hidden
        }
        let b = 1 / Float(fanIn).squareRoot()
        params.append(("out.weight", rng.uniform([channels, fanIn], in: -b...b)))
        params.append(("out.bias", Tensor.zeros([channels])))
        parameters = Parameters(params)
        self.layers = layers
        featureCache = Self.encode(PixelCoordinates.centres(height: height, width: width), frequencies)
    }

    /// `[P, 2]` → `[P, 2F]`: `[sin(2π·p·B), cos(2π·p·B)]`.
    static func encode(_ points: Tensor, _ freqs: Tensor) -> Tensor {
        let phase = points.matmul(freqs).scaled(by: 2 * Float.pi)
        return Tensor.concat([phase.sin(), phase.cos()], axis: 1).detached()
    }

    /// The field at encoded points `[P, 2F]` → `[P, C]`.
    func field(_ encoded: Tensor) -> Tensor {
        var h = encoded
        for l in 0..<layers {
            h = h.linear(parameters["mlp.\(l).weight"]!, bias: parameters["mlp.\(l).bias"]!).silu()
        }
        return h.linear(parameters["out.weight"]!, bias: parameters["out.bias"]!)
    }

    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] {
        [Void](repeating: (), count: count)
    }

    /// `[K, C, H, W]` at the native size.
    public func render(_ views: [Void]) -> Tensor {
        let (c, h, w) = (renderShape[0], renderShape[1], renderShape[2])
        return field(featureCache).transposed().reshaped([1, c, h, w]).expanded(to: [views.count, c, h, w])
    }

    /// `[C, H, W]` at any size (for display).
    public func render(height: Int, width: Int) -> Tensor {
        let enc = Self.encode(PixelCoordinates.centres(height: height, width: width), frequencies)
        return GradMode.withoutGrad { field(enc).transposed().reshaped([renderShape[0], height, width]) }
    }
}
