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
    /// Every parameter's shape by name (kept in every mode, the only record in ``Fill/shapesOnly``).
    private(set) var shapes: [String: [Int]] = [:]
    private var rng: RandomGenerator
    private let fill: Fill

    /// What the tensors hold.
    enum Fill {
        /// PyTorch's default initialisation, seeded.
        case random
        /// Placeholders that loaded weights replace: the right shapes, values never written, so
        /// their pages are never touched (a billion-weight model costs no memory, and no random
        /// numbers, before its weights arrive; zeros cost a full extra copy of the weights at the
        /// peak of a load). Every one is replaced by ``copyWeights(_:into:source:rename:)``, or
        /// the load throws and the model is discarded.
        case unwritten
        /// Empty tensors: only ``shapes`` is meaningful (checks a full-size architecture's names and
        /// shapes without its memory); the model cannot run.
        case shapesOnly
    }

    public init(seed: UInt64) { rng = RandomGenerator(seed: seed); fill = .random }

    init(fill: Fill, seed: UInt64 = 0) { rng = RandomGenerator(seed: seed); self.fill = fill }

    /// A builder whose tensors are unwritten placeholders, for a model whose weights are loaded next.
    static func placeholders() -> ParameterBuilder { ParameterBuilder(fill: .unwritten) }

    /// Uniform in `[-bound, bound]` (PyTorch's Linear/Conv default uses `bound = 1/√fan_in`).
    func uniform(_ name: String, _ shape: [Int], bound: Float) -> Tensor {
        add(name, shape) { $0.uniform(shape, in: -bound...bound) }
    }

    func constant(_ name: String, _ shape: [Int], _ value: Float) -> Tensor {
        add(name, shape) { _ in Tensor(shape, repeating: value) }
    }

    func normal(_ name: String, _ shape: [Int], std: Float = 1) -> Tensor {
        add(name, shape) { $0.normal(shape).scaled(by: std).detached() }
    }

    private func add(_ name: String, _ shape: [Int], _ make: (inout RandomGenerator) -> Tensor) -> Tensor {
        precondition(shapes[name] == nil, "duplicate parameter name \(name)")
        shapes[name] = shape
        let t: Tensor
        switch fill {
        case .random: t = make(&rng)
        case .unwritten:
            let n = shape.reduce(1, *)
            t = Tensor(shape, data: [Float](unsafeUninitializedCapacity: n) { _, initialized in initialized = n })
        case .shapesOnly: t = Tensor([0], data: [])
        }
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

    /// `[N, in, H, W] → [N, out, H', W']`. Inside ``WidthWrap/wrapping(_:)`` the width is padded
    /// circularly (the height still with zeros), so the layer commutes with turning a 360° strip.
    func callAsFunction(_ x: Tensor) -> Tensor {
        guard padding > 0, WidthWrap.isOn else { return x.conv2d(weight, bias: bias, stride: stride, padding: padding) }
        let p = padding
        let wrapped = x.padded([(0, 0), (0, 0), (p, p), (0, 0)]).padded([(0, 0), (0, 0), (0, 0), (p, p)], mode: .circular)
        return wrapped.conv2d(weight, bias: bias, stride: stride, padding: 0)       // [N, out, H', W']
    }
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

    /// `silu(self(x))` as one fused op: `[N, C, ...] → [N, C, ...]`
    func silu(_ x: Tensor) -> Tensor { x.groupNormSiLU(groups: groups, weight: weight, bias: bias, eps: eps) }
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
