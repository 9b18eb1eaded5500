import Foundation
import Testing
import TensorCore
@testable import Diffreps

/// SIREN's initialisation (Sitzmann et al. 2020, §3.2 and their Fig. 2): through a deep
/// network the weighted input of every later sine layer, `ω0·W h`, stays a unit normal and every
/// activation stays arcsine-distributed (spread ≈ 1/√2, most of its mass near ±1) — and a
/// network that does not divide its weights by `ω0` fails the same check.
@Suite struct SineNetworkTests {
    /// 6 sine layers of 256 on a 64×64 grid of pixel centres in `[-1, 1]²`.
    static let network = SineNetwork(inputs: 2, hidden: 256, sineLayers: 6, outputs: 3)
    static let points = PixelCoordinates.centres(height: 64, width: 64)

    /// Per sine layer: the spread of `ω0·W h` (without the bias), and the spread and share of
    /// `|sin| > 0.9` of its activations.
    static func statistics(_ params: Parameters) -> [(weighted: Float, activation: Float, nearOne: Float)] {
        GradMode.withoutGrad {
            var h = points
            return network.layerOutputs(points, params).enumerated().map { l, layer in
                let omega = l == 0 ? network.firstOmega : network.hiddenOmega
                let weighted = h.linear(params["sine.\(l).weight"]!, bias: nil).scaled(by: omega)
                h = layer.activation
                let a = layer.activation.data
                return (std(weighted.data), std(a), Float(a.filter { abs($0) > 0.9 }.count) / Float(a.count))
            }
        }
    }

    static func std(_ x: [Float]) -> Float {
        let n = Double(x.count), mean = x.reduce(0.0) { $0 + Double($1) } / n
        return Float((x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot())
    }

    @Test func laterLayersSeeUnitNormalInputsAndArcsineActivations() {
        var rng = RandomGenerator(seed: 11)
        let stats = Self.statistics(Parameters(Self.network.initialParameters(using: &rng)))
        for (l, s) in stats.enumerated() {
            // Arcsine on [-1, 1]: spread 1/√2 ≈ 0.707, 29 % of the mass beyond ±0.9 (a normal of
            // the same spread puts 20 % there); sin of a unit normal phase alone: spread 0.66.
            #expect(s.activation > 0.65 && s.activation < 0.76, "layer \(l): activation spread \(s.activation)")
            #expect(s.nearOne > 0.24, "layer \(l): only \(s.nearOne) of the activations beyond ±0.9")
            if l > 0 { #expect(abs(s.weighted - 1) < 0.15, "layer \(l): ω0·W h has spread \(s.weighted), not 1") }
        }
    }

    /// Without dividing by `ω0` (PyTorch's `U(±√(6/n))` behind a sine of `30·(W h + b)`), the
    /// weighted inputs spread ~30× too far: the check above has to fail on it.
    @Test func weightsNotDividedByOmegaFailTheSameCheck() {
        var rng = RandomGenerator(seed: 11)
        let params = Parameters(Self.network.initialParameters(using: &rng))
        for l in 1..<Self.network.sineLayers {
            let w = params["sine.\(l).weight"]!
            w.data = w.data.map { $0 * Self.network.hiddenOmega }
        }
        let stats = Self.statistics(params)
        for l in 1..<Self.network.sineLayers { #expect(stats[l].weighted > 20, "layer \(l): \(stats[l].weighted)") }
    }

    @Test func theFirstLayerSpreadsTheCoordinatesOverSeveralPeriods() {
        var rng = RandomGenerator(seed: 11)
        let stats = Self.statistics(Parameters(Self.network.initialParameters(using: &rng)))
        // ω0·W x with W ~ U(±1/2) and x uniform on [-1, 1]²: spread 30·√(2·(1/12)·(1/3)) ≈ 7.1 rad.
        #expect(abs(stats[0].weighted - 7.1) < 0.7, "first layer's phase spread \(stats[0].weighted)")
    }
}
