import Foundation
import Testing
import TensorCore
import Diffusion
import TestSupport

/// A DDPM "network" that is exact for Gaussian data: from the VP input `x_t` and timestep it
/// recovers `σ = σ(t)` and the VE state `x = x_t·√(1+σ²)`, and returns `E[ε|x]`, `E[v|x]` or
/// `E[x₀|x]` computed from the Gaussian posterior mean.
private struct ExactGaussianNetwork: NoisePredictionNetwork {
    let data: GaussianDenoiser
    let schedule: DDPMSchedule
    let prediction: PredictionType

    func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor {
        let b = x.shape[0], per = x.count / b
        var out = [Float](repeating: 0, count: x.count)
        for i in 0..<b {
            let sigma = Double(schedule.sigma(forTimestep: timesteps[i]))
            let alpha = 1 / (1 + sigma * sigma).squareRoot()                     // √ᾱ
            let xi = Array(x.data[i * per..<(i + 1) * per]).map { Float(Double($0) / alpha) }   // VE state
            let d = data.denoise(Tensor([1] + x.shape.dropFirst(), data: xi), sigma: Float(sigma), condition: nil).data
            for j in 0..<per {
                let eps = (Double(xi[j]) - Double(d[j])) / sigma
                switch prediction {
                case .epsilon: out[i * per + j] = Float(eps)
                case .vPrediction: out[i * per + j] = Float(alpha * eps - sigma * alpha * Double(d[j]))
                case .sample: out[i * per + j] = d[j]
                }
            }
        }
        return Tensor(x.shape, data: out)
    }
}

/// Records what the wrapper passes to the network.
private final class RecordingNetwork: NoisePredictionNetwork, @unchecked Sendable {
    var inputs: [Tensor] = []
    var timesteps: [[Float]] = []
    var labels: [[Int]?] = []
    func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor {
        inputs.append(x); self.timesteps.append(timesteps); labels.append(classLabels)
        return Tensor.zeros(x.shape)
    }
}

@Suite struct DDPMDenoiserTests {
    /// Wrapped around a network that predicts exactly for Gaussian data, each adapter gives the
    /// exact posterior mean μ + Σ(Σ+σ²I)⁻¹(x − μ) — off and on the discrete grid.
    @Test(arguments: PredictionType.allCases)
    func adaptersGiveExactPosteriorMean(prediction: PredictionType) {
        let d = 4
        let cov = randomCovariance(d: d, seed: 11)
        let mean = Tensor([1, 2, 2], data: [0.3, -0.2, 0.5, 0.1])
        let gaussian = GaussianDenoiser(mean: mean, covariance: Tensor([d, d], data: cov.map(Float.init)))
        let schedule = DDPMSchedule(predictionType: prediction)
        let network = ExactGaussianNetwork(data: gaussian, schedule: schedule, prediction: prediction)
        let denoiser = DDPMDenoiser(network: network, schedule: schedule)
        #expect(denoiser.prediction == prediction)
        var rng = RandomGenerator(seed: 5)
        for sigma in [0.05, 0.7, 3, 25, schedule.sigmas[500]] as [Float] {
            let x = (rng.normal([3, 1, 2, 2]) * sigma) + mean    // [3, 1, 2, 2]
            let got = denoiser.denoise(x, sigma: sigma, condition: nil)
            let want = gaussian.denoise(x, sigma: sigma, condition: nil)
            // the reference through the dense formula, not through GaussianDenoiser
            let direct = (0..<3).flatMap { i in
                gaussianPosteriorMean(x: x.data[i * d..<(i + 1) * d].map(Double.init), mean: mean.data.map(Double.init),
                                      covariance: cov, sigma: Double(sigma)).map(Float.init)
            }
            assertClose(want.data, direct, rtol: 1e-4, atol: 1e-5, "Gaussian denoiser at σ = \(sigma)")
            assertClose(got.data, direct, rtol: 2e-4, atol: 2e-4 * max(1, sigma), "\(prediction) at σ = \(sigma)")
        }
    }

    /// The network sees x/√(1+σ²), t(σ) for every item, and the class labels unchanged.
    @Test func passesScaledInputTimestepsAndLabels() {
        let schedule = DDPMSchedule()
        let net = RecordingNetwork()
        let denoiser = DDPMDenoiser(network: net, schedule: schedule, prediction: .epsilon)
        let x = Tensor([2, 1, 1, 2], data: [1, 2, 3, 4])
        let sigma = schedule.sigmas[300]
        let d = denoiser.denoise(x, sigma: sigma, condition: [4, 9])
        #expect(d.data == x.data, "zero ε̂ leaves x unchanged")
        try? #require(net.inputs.count == 1)
        let scale = 1 / (1 + sigma * sigma).squareRoot()
        assertClose(net.inputs[0].data, x.data.map { $0 * scale }, rtol: 1e-6, atol: 0)
        #expect(net.timesteps[0].count == 2 && net.timesteps[0][0] == 300 && net.timesteps[0][1] == net.timesteps[0][0])
        #expect(net.labels[0] == [4, 9])
        // v-prediction with v̂ = 0 gives D = x/(1+σ²); sample prediction gives D = x̂₀ = 0
        let dv = DDPMDenoiser(network: net, schedule: schedule, prediction: .vPrediction).denoise(x, sigma: 2, condition: nil)
        assertClose(dv.data, x.data.map { $0 / 5 }, rtol: 1e-6, atol: 1e-7)
        let ds = DDPMDenoiser(network: net, schedule: schedule, prediction: .sample).denoise(x, sigma: 2, condition: nil)
        #expect(ds.data.allSatisfy { $0 == 0 })
    }
}
