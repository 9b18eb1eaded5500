import ArgumentParser
import Diffreps
import Diffusion
import Foundation
import JSON
import RunSupport
import Sampling
import TensorCore

/// Which sampler a command runs (CLI-side enum, kept apart from the library's types).
enum SamplerKind: String, ExpressibleByArgument, CaseIterable {
    case pullback, sds, sjc
}

/// How the pullback sampler solves for the parameter change.
enum SolverKind: String, ExpressibleByArgument, CaseIterable {
    case cg, adam
}

/// `--sampler`, `--steps`, `--views-per-step`, `--resample`, …: shared by image, panorama and nerf.
struct SamplerOptions: ParsableArguments {
    @Option(help: "pullback (the paper's sampler), or the mode-seeking baselines sds / sjc.")
    var sampler: SamplerKind = .pullback
    @Option(parsing: .unconditional, help: "Noise levels (DDIM steps) for pullback; sds/sjc run --iterations optimisation steps.")
    var steps = 50
    @Option(parsing: .unconditional, help: "Views rendered and denoised together per step (default: 1 for images, enough windows to cover a panorama, 6 for NeRFs; with a multi-view model 4 for pullback, 8 for sds/sjc).")
    var viewsPerStep: Int?
    @Option(parsing: .unconditional, help: "RePaint resampling: times each level's step is taken (default: 1 = none; 2 for NeRFs).")
    var resample: Int?
    @Option(parsing: .unconditional, help: "DDIM stochasticity η in [0, 1] (pullback).")
    var eta: Float = 0
    @Option(help: "Least-squares solve for the pullback step: cg (conjugate gradients; default for images and panoramas) or adam (default for NeRFs).")
    var solver: SolverKind?
    @Option(parsing: .unconditional, help: "Optimisation steps for sds / sjc.")
    var iterations = 300
    @Option(parsing: .unconditional, help: "Adam learning rate for sds / sjc.")
    var learningRate: Float = 0.05
    @Option(parsing: .unconditional, help: "Seed (the same seed reproduces the same output).")
    var seed: UInt64 = 0

    func validate() throws {
        try OptionCheck.range("--steps", steps, OptionLimits.steps)
        try OptionCheck.range("--views-per-step", viewsPerStep, OptionLimits.viewsPerStep)
        try OptionCheck.range("--resample", resample, OptionLimits.resample)
        try OptionCheck.range("--iterations", iterations, OptionLimits.iterations)
        try OptionCheck.range("--eta", eta, 0...1)
        try OptionCheck.positive("--learning-rate", learningRate)
    }

    var settings: [String: JSONValue] {
        ["sampler": .string(sampler.rawValue), "steps": .int(steps), "views_per_step": viewsPerStep.map { .int($0) } ?? "default",
         "resample": resample.map { .int($0) } ?? "default", "eta": JSONValue(eta), "solver": .string(solver?.rawValue ?? "default"),
         "iterations": .int(iterations), "learning_rate": JSONValue(learningRate)]
    }

    /// What the pullback sampler keeps in `diffrep` and where its noise comes from — the
    /// diffrep's own settings (Sampling's `PullbackDefaults`; image and panorama have no options
    /// for them) — as the manifest's `state` and `noise`; nothing for sds / sjc.
    func stateSettings<R: Diffrep>(for diffrep: R) -> [String: JSONValue] {
        guard sampler == .pullback else { return [:] }
        let s = PullbackSampler.DiffrepSettings.defaults(for: diffrep)
        return ["state": .string(s.state.rawValue), "noise": .string(s.viewConsistentNoise ? "view-consistent" : "carried")]
    }

    /// Samples `diffrep` in place with the chosen sampler and a progress bar. Options not given
    /// are the diffrep's own pullback settings (Sampling's `PullbackDefaults`: state, solver, views,
    /// resampling; sds and sjc take their views per step from there too); `views`, when the
    /// command knows better (a NeRF's depend on the model), replaces the diffrep's views per step.
    func run<R: Diffrep>(_ diffrep: R, model: LoadedModel, seed: UInt64, label: String, views: Int? = nil) throws -> SamplingReport {
        try run(diffrep, denoiser: model.denoiser, sigmas: { try model.schedule.checkedDDIMSigmas(steps: steps) },
                classLabel: model.classLabel ?? model.nullClass, seed: seed, label: label, views: views)
    }

    /// ``run(_:model:seed:label:views:)`` with any denoiser: `sigmas` gives the pullback sampler's
    /// noise levels for `--steps` (a Stable Diffusion pipeline's DDIM levels, for one), `classLabel`
    /// the class every view is told.
    func run<R: Diffrep>(_ diffrep: R, denoiser: any Denoiser, sigmas: () throws -> [Float], classLabel: Int?,
                         seed: UInt64, label: String, views: Int? = nil) throws -> SamplingReport {
        let total = sampler == .pullback ? steps : iterations
        let bar = ProgressBar(label, total: total)
        defer { bar.finish() }
        let progress: ProgressHandler = { p in
            bar.update(step: p.step, extra: ["σ": Double(p.sigma)])
            return true
        }
        switch sampler {
        case .pullback:
            let config = PullbackSampler.Configuration(
                sigmas: try sigmas(), viewsPerStep: viewsPerStep ?? views, eta: eta,
                resample: resample, solver: solver.map { $0 == .adam ? .adam() : .default }, seed: seed,
                classLabel: classLabel)
            return try PullbackSampler(denoiser: denoiser, configuration: config).sample(diffrep, progress: progress)
        case .sds, .sjc:
            let config = ScoreDistillationSampler.Configuration(
                method: sampler == .sds ? .sds : .sjc(perturbations: 4), iterations: iterations,
                viewsPerStep: viewsPerStep ?? views ?? PullbackSampler.DiffrepSettings.defaults(for: diffrep).viewsPerStep,
                learningRate: learningRate, seed: seed, classLabel: classLabel)
            return try ScoreDistillationSampler(denoiser: denoiser, configuration: config).sample(diffrep, progress: progress)
        }
    }
}
