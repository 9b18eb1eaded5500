import Foundation
import TensorCore

/// Creates parameters under diffusers' state-dict names with PyTorch's default
/// initialisation, and collects them in order.
///
/// ```swift
/// let b = ParameterBuilder(seed: 0)
/// let conv = Conv2dLayer(b, "conv_in", in: 3, out: 32, kernel: 3, padding: 1)
/// b.parameters.count   // 2 (weight and bias)
/// ```
public final class ParameterBuilder {
    public private(set) var parameters = Parameters()
    private var rng: RandomGenerator
    /// False: every tensor is zeros (placeholders that loaded weights replace; no time spent on
    /// random numbers for a model of a billion weights).
    private let random: Bool

    public init(seed: UInt64) { rng = RandomGenerator(seed: seed); random = true }

    /// A builder whose tensors are zeros, for a model whose weights are loaded next.
    static func placeholders() -> ParameterBuilder { ParameterBuilder(seed: 0, random: false) }

    private init(seed: UInt64, random: Bool) { rng = RandomGenerator(seed: seed); self.random = random }

    /// Uniform in `[-bound, bound]` (PyTorch's Linear/Conv default uses `bound = 1/√fan_in`).
    func uniform(_ name: String, _ shape: [Int], bound: Float) -> Tensor {
        add(name, random ? rng.uniform(shape, in: -bound...bound) : Tensor.zeros(shape))
    }

    func constant(_ name: String, _ shape: [Int], _ value: Float) -> Tensor {
        add(name, Tensor(shape, repeating: value))
    }

    func normal(_ name: String, _ shape: [Int], std: Float = 1) -> Tensor {
        add(name, random ? rng.normal(shape).scaled(by: std).detached() : Tensor.zeros(shape))
    }

    private func add(_ name: String, _ t: Tensor) -> Tensor {
        precondition(parameters[name] == nil, "duplicate parameter name \(name)")
        parameters[name] = t
        return t
    }
}

/// 2-D convolution layer (`weight [out, in, k, k]`, `bias [out]`), PyTorch's `nn.Conv2d`.
struct Conv2dLayer {
    let weight: Tensor
    let bias: Tensor
    let stride: Int, padding: Int

    init(_ b: ParameterBuilder, _ name: String, in cin: Int, out cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        let bound = 1 / Float(cin * kernel * kernel).squareRoot()
        weight = b.uniform(name + ".weight", [cout, cin, kernel, kernel], bound: bound)
        bias = b.uniform(name + ".bias", [cout], bound: bound)
        self.stride = stride
        self.padding = padding
    }

    /// `[N, in, H, W] → [N, out, H', W']`
    func callAsFunction(_ x: Tensor) -> Tensor { x.conv2d(weight, bias: bias, stride: stride, padding: padding) }
}

/// Fully connected layer (`weight [out, in]`, `bias [out]` unless `bias: false`), PyTorch's `nn.Linear`.
struct LinearLayer {
    let weight: Tensor
    let bias: Tensor?

    init(_ b: ParameterBuilder, _ name: String, in cin: Int, out cout: Int, bias hasBias: Bool = true) {
        let bound = 1 / Float(cin).squareRoot()
        weight = b.uniform(name + ".weight", [cout, cin], bound: bound)
        bias = hasBias ? b.uniform(name + ".bias", [cout], bound: bound) : nil
    }

    /// `[..., in] → [..., out]`
    func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight, bias: bias) }
}

/// Group normalisation with a per-channel affine map, PyTorch's `nn.GroupNorm`.
struct GroupNormLayer {
    let groups: Int
    let eps: Float
    let weight: Tensor, bias: Tensor

    init(_ b: ParameterBuilder, _ name: String, groups: Int, channels: Int, eps: Float) {
        self.groups = groups
        self.eps = eps
        weight = b.constant(name + ".weight", [channels], 1)
        bias = b.constant(name + ".bias", [channels], 0)
    }

    /// `[N, C, ...] → [N, C, ...]`
    func callAsFunction(_ x: Tensor) -> Tensor { x.groupNorm(groups: groups, weight: weight, bias: bias, eps: eps) }
}

/// Layer normalisation over the last axis with a per-feature affine map, PyTorch's `nn.LayerNorm`.
struct LayerNormLayer {
    let eps: Float
    let weight: Tensor, bias: Tensor

    init(_ b: ParameterBuilder, _ name: String, features: Int, eps: Float) {
        self.eps = eps
        weight = b.constant(name + ".weight", [features], 1)
        bias = b.constant(name + ".bias", [features], 0)
    }

    /// `[..., D] → [..., D]`
    func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }
}
