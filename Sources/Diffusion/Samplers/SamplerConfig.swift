import TensorCore

/// What every image sampler needs: the noise levels, the seed, and the class condition (and,
/// for a camera-aware model, the camera each image is seen from).
///
/// Randomness is drawn from `RandomGenerator(seed: seed)` in fixed sub-streams, so other code
/// (the pullback sampler) can reproduce a run exactly: stream 0 gives the initial
/// `x = σ_0·ε` (``initialNoise(shape:)``), stream `i + 1` gives the fresh noise of step `i`
/// (``stepNoise(step:shape:)``).
///
/// ```swift
/// let config = SamplerConfig(sigmas: schedule.ddimSigmas(steps: 50), seed: 7, condition: [3, 3])
/// let images = try DDIMSampler().sample(denoiser, shape: [2, 3, 32, 32], config: config)
/// ```
public struct SamplerConfig: Sendable, Equatable {
    /// Decreasing noise levels `σ_0 > σ_1 > … ≥ σ_N`, usually ending with 0; `N` steps.
    public var sigmas: [Float]
    /// The seed of all random draws.
    public var seed: UInt64
    /// One class label per batch item, or `nil` for unconditional sampling.
    public var condition: [Int]?
    /// One camera per batch item (`nil` entries: unknown) for a camera-aware model, or `nil`.
    public var cameras: [CameraPose?]?
    /// Every batch item starts from the same noise (with `cameras`: one sample seen from several
    /// views, which shows whether a camera-aware model ties what it draws to the view).
    public var sharedInitialNoise = false
    /// Start at `√(1+σ₀²)·ε` instead of `σ₀·ε`: where diffusers' pipelines start, their
    /// variance-preserving latents `x/√(1+σ₀²)` being exactly `ε` (docs/DESIGN.md §1).
    public var startsLikeDiffusers = false
    /// The start's `ε` given rather than drawn from stream 0 (one value per element of the batch,
    /// row-major), e.g. the `latents` a diffusers run started from.
    public var givenInitialNoise: [Float]?

    /// A configuration: noise levels (for example ``DDPMSchedule/ddimSigmas(steps:)``), seed,
    /// labels, cameras.
    public init(sigmas: [Float], seed: UInt64, condition: [Int]? = nil, cameras: [CameraPose?]? = nil) {
        self.sigmas = sigmas
        self.seed = seed
        self.condition = condition
        self.cameras = cameras
    }

    /// What the denoiser is told about each item: ``condition`` and ``cameras`` together
    /// (`nil` when neither is set, exactly the class-only call).
    public var conditions: [DenoiserCondition]? { DenoiserCondition.combining(classLabels: condition, cameras: cameras) }

    /// The number of steps `N` (one fewer than the noise levels).
    public var steps: Int { Swift.max(sigmas.count - 1, 0) }

    /// The starting point `σ_0·ε` (or `√(1+σ₀²)·ε`, ``startsLikeDiffusers``), `ε ~ N(0, I)` from
    /// stream 0 (one draw for every item when ``sharedInitialNoise``) or ``givenInitialNoise``.
    public func initialNoise(shape: [Int]) -> Tensor {
        let scale = startsLikeDiffusers ? (1 + sigmas[0] * sigmas[0]).squareRoot() : sigmas[0]
        if let given = givenInitialNoise { return Tensor(shape, data: given).scaled(by: scale) }
        var rng = RandomGenerator(seed: seed).fork(0)
        guard sharedInitialNoise, let batch = shape.first else { return rng.normal(shape).scaled(by: scale) }
        let one = rng.normal(Array(shape.dropFirst())).scaled(by: scale)
        return Tensor(shape, data: Array([[Float]](repeating: one.data, count: batch).joined()))
    }

    /// Fresh `N(0, I)` noise for step `step` (stream `step + 1`).
    public func stepNoise(step: Int, shape: [Int]) -> Tensor {
        var rng = RandomGenerator(seed: seed).fork(UInt64(step) + 1)
        return rng.normal(shape)
    }

    /// Throws ``SamplingError/invalidConfiguration(_:)`` unless the levels decrease from a
    /// positive start and the condition fits a batch `shape` `[B, …]`.
    func validate(shape: [Int]) throws(SamplingError) {
        func check(_ ok: Bool, _ why: @autoclosure () -> String) throws(SamplingError) {
            if !ok { throw .invalidConfiguration(why()) }
        }
        try check(sigmas.count >= 2, "a sampler needs at least two noise levels, got \(sigmas)")
        try check(sigmas[0] > 0 && sigmas.allSatisfy { $0 >= 0 && $0.isFinite },
                  "noise levels must be finite, non-negative, and start positive: \(sigmas)")
        try check(zip(sigmas, sigmas.dropFirst()).allSatisfy { $0 > $1 }, "noise levels must strictly decrease: \(sigmas)")
        try check(shape.count >= 1 && shape.allSatisfy { $0 > 0 }, "invalid batch shape \(shape)")
        if let c = condition { try check(c.count == shape[0], "\(c.count) class labels for a batch of \(shape[0])") }
        if let c = cameras { try check(c.count == shape[0], "\(c.count) cameras for a batch of \(shape[0])") }
        if let g = givenInitialNoise {
            try check(g.count == shape.reduce(1, *), "the given initial noise has \(g.count) values, the batch \(shape) needs \(shape.reduce(1, *))")
            try check(g.allSatisfy(\.isFinite), "the given initial noise has values that are not finite")
        }
    }
}
