import Foundation
import TensorCore

/// A SIREN (Sitzmann et al. 2020, "Implicit Neural Representations with Periodic Activation
/// Functions"): an MLP whose hidden layers are `h ↦ sin(ω0 · (W h + b))` and whose last layer is
/// linear. The network behind ``SirenImage`` and ``PanoramaField``; it only describes the layers
/// and reads its weights from a ``Parameters`` under `prefix` (`sine.0.weight`, …, `out.bias`).
///
/// SIREN's initialisation keeps every sine layer's input spread the same through depth
/// (Sitzmann et al. §3.2): the first layer `W ~ U(−1/n, 1/n)` (with `ω0 = 30` that spreads the
/// input coordinates over several periods), the later layers and the output layer
/// `W ~ U(−√(6/n)/ω0, √(6/n)/ω0)`, so `ω0·W h` has unit variance when `h` is arcsine-distributed
/// (the distribution of a sine of a spread-out phase). Sine-layer biases follow the paper's code
/// (PyTorch's default `U(−1/√n, 1/√n)`); the output bias starts at zero.
///
/// ```swift
/// let net = SineNetwork(inputs: 2, hidden: 64, sineLayers: 3, outputs: 3)
/// var rng = RandomGenerator(seed: 0)
/// let params = Parameters(net.initialParameters(using: &rng))
/// let rgb = net(Tensor([1, 2], data: [0.5, -0.25]), params)   // [1, 3]
/// ```
struct SineNetwork {
    /// Input coordinates per point.
    let inputs: Int
    /// Width of every sine layer.
    let hidden: Int
    /// Number of sine layers (at least 1); the linear output layer comes after them.
    let sineLayers: Int
    /// Output values per point.
    let outputs: Int
    /// `ω0` of the first layer (30 in the paper: the input's frequency scale).
    var firstOmega: Float = 30
    /// `ω0` of the later sine layers (30 in the paper; the initialisation divides it out).
    var hiddenOmega: Float = 30

    /// The weights at SIREN's initialisation, in the order ``callAsFunction(_:_:)`` reads them.
    func initialParameters(using rng: inout RandomGenerator) -> [(String, Tensor)] {
        var params: [(String, Tensor)] = []
        var fanIn = inputs
        for l in 0..<sineLayers {
            let n = Float(fanIn)
            let w = l == 0 ? 1 / n : (6 / n).squareRoot() / hiddenOmega
            let b = 1 / n.squareRoot()
            params.append(("sine.\(l).weight", rng.uniform([hidden, fanIn], in: -w...w)))   // [hidden, in]
            params.append(("sine.\(l).bias", rng.uniform([hidden], in: -b...b)))            // [hidden]
            fanIn = hidden
        }
        let w = (6 / Float(fanIn)).squareRoot() / hiddenOmega
        params.append(("out.weight", rng.uniform([outputs, fanIn], in: -w...w)))            // [out, hidden]
        params.append(("out.bias", Tensor.zeros([outputs])))                                // [out]
        return params
    }

    /// `[P, inputs]` → `[P, outputs]`.
    func callAsFunction(_ points: Tensor, _ parameters: Parameters) -> Tensor {
        var h = points
        for l in 0..<sineLayers { h = sineLayer(l, h, parameters).activation }
        return h.linear(parameters["out.weight"]!, bias: parameters["out.bias"]!)
    }

    /// Layer `l` on `[P, n]`: the phase `ω0·(W h + b)` and its sine, both `[P, hidden]`.
    func sineLayer(_ l: Int, _ h: Tensor, _ parameters: Parameters) -> (phase: Tensor, activation: Tensor) {
        let phase = h.linear(parameters["sine.\(l).weight"]!, bias: parameters["sine.\(l).bias"]!)
            .scaled(by: l == 0 ? firstOmega : hiddenOmega)
        return (phase, phase.sin())
    }

    /// Every sine layer's phase and activation on `points` (for checking the initialisation).
    func layerOutputs(_ points: Tensor, _ parameters: Parameters) -> [(phase: Tensor, activation: Tensor)] {
        var h = points, out: [(phase: Tensor, activation: Tensor)] = []
        for l in 0..<sineLayers {
            let layer = sineLayer(l, h, parameters)
            out.append(layer)
            h = layer.activation
        }
        return out
    }

    /// Number of scalar weights.
    var parameterCount: Int {
        (inputs + 1) * hidden + (sineLayers - 1) * (hidden + 1) * hidden + (hidden + 1) * outputs
    }
}
