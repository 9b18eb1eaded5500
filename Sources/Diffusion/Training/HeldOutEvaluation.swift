import Foundation
import TensorCore

/// Held-out denoising loss of a DDPM network per band of timesteps (noise levels), on fixed
/// items and fixed noise, so two models — or two checkpoints of one run — compare exactly.
///
/// For each band `[t₀, t₁)` every item `x₀` is noised once, at a timestep spread evenly over
/// the band (item `k` of `n` gets `t₀ + ⌊(2k+1)(t₁−t₀)/2n⌋`), with noise `ε` drawn from
/// `RandomGenerator(seed).fork(band).fork(k)` — independent of the batch size. The network
/// sees `x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε` and its output is turned into `ε̂` and `x̂₀` (whatever
/// it predicts: ε, v or x₀); the band reports the mean squared errors per pixel
/// `mean‖ε̂ − ε‖²` (the training loss) and `mean‖x̂₀ − x₀‖²` (what a sampler feels; for an
/// ε-model it is `σ_t²` times the ε-error, item by item, so it explodes at high noise), and the
/// latter once more with `x̂₀` clipped to the data range `[−1, 1]` (as diffusers' DDPM
/// scheduler does by default), which stays comparable across bands.
///
/// ```swift
/// let eval = HeldOutEvaluation(data: toys, items: Array(1_000_000..<1_000_256))
/// for band in try eval.evaluate(modelFolder: URL(fileURLWithPath: "Assets/toys-unet")) {
///     print(band.timesteps, band.sigmaRange, band.epsilonMSE, band.x0MSE, band.clippedX0MSE)
/// }
/// ```
public struct HeldOutEvaluation {
    /// Default bands of timesteps (of 1000): nearly clean, light, medium and heavy noise.
    public static let defaultBands: [Range<Int>] = [0..<100, 100..<300, 300..<600, 600..<1000]

    /// The result for one band of timesteps.
    public struct BandResult: Sendable, Equatable {
        /// The timesteps `[t₀, t₁)` of the band.
        public let timesteps: Range<Int>
        /// `σ_t = √((1−ᾱ_t)/ᾱ_t)` at the band's first and last timestep.
        public let sigmaRange: ClosedRange<Float>
        /// Mean squared error of the predicted noise, per pixel (the DDPM training loss).
        public let epsilonMSE: Double
        /// Mean squared error of the predicted clean image, per pixel.
        public let x0MSE: Double
        /// The same with the predicted clean image clipped to `[−1, 1]`.
        public let clippedX0MSE: Double
        /// Items evaluated.
        public let count: Int
    }

    /// Where the clean items come from.
    public var data: TrainingData
    /// Item indices to evaluate (keep them apart from the ones trained on).
    public var items: [Int]
    /// Bands of timesteps, each inside `0..<numTrainTimesteps`.
    public var bands: [Range<Int>]
    /// Seeds the noise (with the band and the item's position).
    public var seed: UInt64
    /// Items per network call.
    public var batchSize: Int
    /// With a class-conditional network: `true` passes the data's labels (as training mostly
    /// does), `false` the null class (the unconditional model that guidance starts from).
    public var conditional: Bool
    /// With a camera-aware network: `true` passes the data's cameras, `false` "no camera" (how
    /// much the camera helps is the difference).
    public var cameras: Bool

    public init(data: TrainingData, items: [Int], bands: [Range<Int>] = HeldOutEvaluation.defaultBands,
                seed: UInt64 = 0, batchSize: Int = 16, conditional: Bool = true, cameras: Bool = true) {
        self.data = data
        self.items = items
        self.bands = bands
        self.seed = seed
        self.batchSize = batchSize
        self.conditional = conditional
        self.cameras = cameras
    }

    /// Evaluates the diffusers-format model in `folder` (`config.json`, weights and, if present,
    /// `scheduler_config.json`; otherwise the default DDPM schedule).
    public func evaluate(modelFolder folder: URL, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [BandResult] {
        let unet = try UNet2D(contentsOf: folder)
        let schedulerURL = folder.appendingPathComponent("scheduler_config.json")
        let schedule = FileManager.default.fileExists(atPath: schedulerURL.path)
            ? try DDPMSchedule(contentsOf: schedulerURL) : DDPMSchedule()
        return evaluate(network: unet, schedule: schedule, nullClass: unet.config.nullClass,
                        progress: progress)
    }

    /// Evaluates `network` trained with `schedule`.
    ///
    /// - Parameters:
    ///   - prediction: what the network predicts (default: the schedule's `prediction_type`).
    ///   - nullClass: the null label of a class-conditional network (`nil`: unconditional network,
    ///     no labels passed).
    ///   - progress: called after each batch with items done and the total (items × bands).
    public func evaluate(network: any NoisePredictionNetwork, schedule: DDPMSchedule, prediction: PredictionType? = nil,
                         nullClass: Int?, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> [BandResult] {
        precondition(!items.isEmpty, "held-out evaluation needs at least one item")
        precondition(batchSize > 0, "batch size must be positive")
        for band in bands {
            precondition(!band.isEmpty && band.lowerBound >= 0 && band.upperBound <= schedule.numTrainTimesteps,
                         "timestep band \(band) must be non-empty and inside 0..<\(schedule.numTrainTimesteps)")
        }
        let predictionType = prediction ?? schedule.predictionType
        let n = items.count
        var epsSum = [Double](repeating: 0, count: bands.count), x0Sum = epsSum, clippedSum = epsSum
        var pixels = 0
        var done = 0
        for start in stride(from: 0, to: n, by: batchSize) {
            let positions = Array(start..<Swift.min(start + batchSize, n))
            let (x0, given) = data.batch(positions.map { items[$0] })          // [B, C, H, W]
            let b = x0.shape[0], per = x0.count / b
            let clean = x0.data
            pixels += x0.count
            let labels: [Int]? = nullClass.map { null in
                conditional ? (given ?? [Int](repeating: null, count: b)) : [Int](repeating: null, count: b)
            }
            let cameras: [CameraPose?]? = self.cameras ? data.cameras(positions.map { items[$0] }) : nil   // camera-aware networks read them
            for (j, band) in bands.enumerated() {
                let ts = positions.map { band.lowerBound + ((2 * $0 + 1) * band.count) / (2 * n) }
                let bandRNG = RandomGenerator(seed: seed).fork(UInt64(j))
                var eps = [Float](), xt = [Float](repeating: 0, count: x0.count)
                eps.reserveCapacity(x0.count)
                for (i, k) in positions.enumerated() {
                    var rng = bandRNG.fork(UInt64(k))
                    eps.append(contentsOf: rng.normalValues(per))
                    let a = schedule.alphasCumprod[ts[i]]
                    let (sa, sn) = (Float(a.squareRoot()), Float((1 - a).squareRoot()))
                    for p in (i * per)..<((i + 1) * per) { xt[p] = sa * clean[p] + sn * eps[p] }
                }
                let out = GradMode.withoutGrad {
                    network.predict(Tensor(x0.shape, data: xt), timesteps: ts.map(Float.init),
                                    conditions: DenoiserCondition.combining(classLabels: labels, cameras: cameras))
                }
                precondition(out.shape == x0.shape, "network returned \(out.shape) for an input of \(x0.shape)")
                let output = out.data
                for i in 0..<b {
                    let a = schedule.alphasCumprod[ts[i]]
                    let (sa, sn) = (a.squareRoot(), (1 - a).squareRoot())
                    var e2 = 0.0, x2 = 0.0, c2 = 0.0
                    for p in (i * per)..<((i + 1) * per) {
                        let f = Double(output[p]), x = Double(xt[p])
                        let (epsHat, x0Hat): (Double, Double)
                        switch predictionType {
                        case .epsilon: (epsHat, x0Hat) = (f, (x - sn * f) / sa)
                        case .vPrediction: (epsHat, x0Hat) = (sn * x + sa * f, sa * x - sn * f)
                        case .sample: (epsHat, x0Hat) = ((x - sa * f) / sn, f)
                        }
                        let target = Double(clean[p])
                        let de = epsHat - Double(eps[p]), dx = x0Hat - target
                        let dc = Swift.min(1, Swift.max(-1, x0Hat)) - target
                        e2 += de * de
                        x2 += dx * dx
                        c2 += dc * dc
                    }
                    epsSum[j] += e2
                    x0Sum[j] += x2
                    clippedSum[j] += c2
                }
                done += b
                progress?(done, n * bands.count)
            }
        }
        return bands.enumerated().map { j, band in
            BandResult(timesteps: band,
                       sigmaRange: schedule.sigmas[band.lowerBound]...schedule.sigmas[band.upperBound - 1],
                       epsilonMSE: epsSum[j] / Double(pixels), x0MSE: x0Sum[j] / Double(pixels),
                       clippedX0MSE: clippedSum[j] / Double(pixels), count: n)
        }
    }
}
