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

    public init(seed: UInt64) { rng = RandomGenerator(seed: seed) }

    /// Uniform in `[-bound, bound]` (PyTorch's Linear/Conv default uses `bound = 1/√fan_in`).
    func uniform(_ name: String, _ shape: [Int], bound: Float) -> Tensor {
        add(name, rng.uniform(shape, in: -bound...bound))
    }

    func constant(_ name: String, _ shape: [Int], _ value: Float) -> Tensor {
        add(name, Tensor(shape, repeating: value))
    }

    func normal(_ name: String, _ shape: [Int], std: Float = 1) -> Tensor {
        add(name, rng.normal(shape).scaled(by: std).detached())
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

/// Fully connected layer (`weight [out, in]`, `bias [out]`), PyTorch's `nn.Linear`.
struct LinearLayer {
    let weight: Tensor
    let bias: Tensor

    init(_ b: ParameterBuilder, _ name: String, in cin: Int, out cout: Int) {
        let bound = 1 / Float(cin).squareRoot()
        weight = b.uniform(name + ".weight", [cout, cin], bound: bound)
        bias = b.uniform(name + ".bias", [cout], bound: bound)
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

    /// `silu(self(x))` as one fused op: `[N, C, ...] → [N, C, ...]`
    func silu(_ x: Tensor) -> Tensor { x.groupNormSiLU(groups: groups, weight: weight, bias: bias, eps: eps) }
}
