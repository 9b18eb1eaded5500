import ArgumentParser
import Diffreps
import DefaultModel
import Diffusion
import Evaluation
import Foundation
import JSON
import PNGIO
import RunSupport
import Sampling
import TensorCore
import Toys

/// `diffrep nerf`: the main job — sample a NeRF with the diffusion model, then write a
/// turntable (PNG frames + animated PNG), depth and opacity maps, the checkpoint, a manifest and
/// optionally a mesh.
struct NerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nerf",
        abstract: "Sample a NeRF (voxel grid or hash grid radiance field) with the diffusion model; write a turntable and more.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplerOptions
    @OptionGroup var resources: ResourceOptions
    /// The defaults of the sampling options: the library's settings for a NeRF (Sampling's
    /// `PullbackDefaults`, measured: see the README), for a single-view model and for a
    /// multi-view one, whose views come in quarter turns.
    static let defaults = NeRFDiffrep.pullbackDefaults(viewsInQuarterTurns: false)
    static let multiViewDefaults = NeRFDiffrep.pullbackDefaults(viewsInQuarterTurns: true)
    /// SDS's and SJC's views per step with a multi-view model: two quarter-turn groups.
    static let scoreDistillationMultiViewViews = 2 * QuarterTurnTiles.viewCount
    /// A multi-view model's carried noise: one image per tile, or one for all.
    enum TileNoise: String, ExpressibleByArgument, CaseIterable { case independent, shared }

    @Option(help: "Radiance field: grid (dense voxel grid) or hash (hash grid + small MLP).")
    var field: RadianceFieldKind = .grid
    @Option(parsing: .unconditional, help: "Voxel grid resolution per axis (--field grid only; default 32).")
    var resolution: Int?
    /// The voxel grid's resolution (the hash grid has its own levels).
    var gridResolution: Int { resolution ?? RadianceFieldKind.defaultGridResolution }
    @Option(parsing: .unconditional, help: "Samples per ray when rendering.")
    var samplesPerRay = 48
    @Option(help: "How a voxel grid is rendered: fused (each ray marched in one pass, stopped once its transmittance is below 1e-4) or tape (sampler, interpolation and compositor op by op: the slower reference).")
    var gridRender: GridRenderPath = .fused
    @Option(parsing: .unconditional, help: "Hash grid (--field hash): units in each of the MLP's two hidden layers (default 32).")
    var hashWidth: Int?
    @Option(parsing: .unconditional, help: "Hash grid (--field hash): cells per axis of the finest of its 8 levels (default 64; the coarsest has 8).")
    var hashFinest: Int?
    /// The hash grid's MLP width and finest level (the voxel grid has neither).
    var hashMLPWidth: Int { hashWidth ?? RadianceFieldKind.defaultHashWidth }
    var hashFinestLevel: Int { hashFinest ?? RadianceFieldKind.defaultHashFinestResolution }
    @Option(help: "Hash grid (--field hash): skip (evaluate the field only in cells its occupancy grid finds non-empty; the default) or evaluate (every sample: the slower reference).")
    var emptySpace: EmptySpaceMode?
    @Option(help: "What the NeRF holds while sampling: denoised (renderable clean estimate, per-view noise) or noisy.")
    var state: PullbackSampler.StateMode = NerfCommand.defaults.state
    @Option(parsing: .unconditional, help: "Denoised state: correlation of the per-view noise across views and steps (1 = one carried noise image, as DDIM; 0 = fresh noise every step, or only the --noise source's). Default: 1, and 0 with a multi-view model (its azimuth noise alone).")
    var noiseCorrelation: Float?
    @Option(help: "Denoised state: where each view's noise comes from — carried (one noise image, correlated across views by --noise-correlation; the default for a single-view model), azimuth (views at --azimuth-steps azimuths, each with its own noise image for the whole run, mixed with the carried image by --noise-correlation; the default for a multi-view model), surface (a 3D noise field seen through the NeRF: it turns with the object; mixed with the carried image by --noise-correlation), surface-shared-mean (surface noise with the carried image's per-channel mean) or azimuth-shared-mean (azimuth noise with the carried image's per-channel mean). The shared-mean and surface sources are experimental.")
    var noise: NoiseSource?
    @Option(parsing: .unconditional, help: "With azimuth noise: the number of azimuths views are drawn at, 360°/N apart, each with its own noise image (default 8 for a multi-view model, whose quarter turns need a multiple of 4; 16 for a single-view one). With --sampler sds or sjc: their views at those azimuths (default: any azimuth).")
    var azimuthSteps: Int?
    @Option(parsing: .unconditional, help: "Multi-view models with azimuth noise (pullback): above this σ the views come from one quarter-turn group (0°, 90°, 180°, 270°), so the high-noise choices (colour, layout) are made by views denoised together; the in-between azimuths join below it. Default 2 (the last 20 of 50 levels with the toys models); a σ above the schedule's largest (e.g. 1000) keeps every azimuth at every level.")
    var singleGroupAboveSigma: Float?
    @Option(help: "Multi-view models, denoised state: carried noise per tile — independent (each of the four tiles its own image, as in training) or shared (one image in every view).")
    var tileNoise: TileNoise = .independent
    @Option(parsing: .unconditional, help: "Denoised state: above this σ every view takes its carried noise image alone (the run's high-noise choices, such as colour, shared by every step); at and below it, --noise and --noise-correlation. Default: one rule at every level.")
    var carriedAboveSigma: Float?
    @Option(help: "Camera-aware models: give the denoiser each view's camera only at noise levels σ ≤ this (above it, the class alone, so the high-noise choices such as colour agree between views). Default: the camera at every level.")
    var cameraFromSigma: Float?
    @Option(help: "Starting field: empty (sample from pure noise) or blobs (random 3D ellipsoids, with --start-sigma: SDEdit from a random 3D layout; voxel grid only).")
    var initial: InitialField = .empty
    @Option(parsing: .unconditional, help: "Start at the first noise level at or below this σ (default: the schedule's largest).")
    var startSigma: Float?
    @Option(parsing: .unconditional, help: "Weight of the field's squared total variation in each solve (smoothness prior).")
    var smoothness: Float = 0.005
    @Option(parsing: .unconditional, help: "Weight of the empty-space prior (mean softplus of log density above 0.01) in each solve.")
    var sparsity: Float = 0.01
    @Option(parsing: .unconditional, help: "Conjugate-gradient iterations per pullback step.")
    var cgIterations = 8
    @Option(parsing: .unconditional, help: "Turntable frames.")
    var frames = 24
    @Option(parsing: .unconditional, help: "Turntable frame size (pixels; larger than the training views is fine).")
    var displaySize = 96
    @Option(help: "Also write a marching-cubes mesh with vertex colours (.ply or .obj).")
    var mesh: String?
    @Option(parsing: .unconditional, help: "Save the NeRF every N sampler steps (for --resume).")
    var checkpointEvery = 5
    @Flag(help: "Continue from OUT/nerf.safetensors with the same settings.")
    var resume = false
    @Option(parsing: .unconditional, help: "Stop after this many sampler steps (1 to --steps − 1), leaving the checkpoint to --resume later (pullback only).")
    var stopAfter: Int?
    @Option(help: "Output folder.")
    var out = "out/nerf"

    func validate() throws {
        try OptionCheck.range("--resolution", gridResolution, 4...256)
        if field != .hash && emptySpace != nil {
            throw ValidationError("--empty-space applies to the hash grid (--field hash); the voxel grid's fused march stops rays by transmittance instead")
        }
        if let hashWidth {
            guard field == .hash else { throw ValidationError("--hash-width applies to the hash grid (--field hash)") }
            try OptionCheck.range("--hash-width", hashWidth, 1...1024)
        }
        if let hashFinest {
            guard field == .hash else { throw ValidationError("--hash-finest applies to the hash grid (--field hash)") }
            try OptionCheck.range("--hash-finest", hashFinest, 8...4096)
        }
        if field == .hash && resolution != nil {
            throw ValidationError("--resolution sets the voxel grid; the hash grid (--field hash) has its own levels (8…128): drop --resolution")
        }
        if let azimuthSteps {
            guard noise == nil || noise == .azimuth || noise == .azimuthSharedMean else {
                throw ValidationError("--azimuth-steps applies to --noise azimuth or azimuth-shared-mean")
            }
            try OptionCheck.range("--azimuth-steps", azimuthSteps, 1...360)
        }
        if let singleGroupAboveSigma, !(singleGroupAboveSigma >= 0 && singleGroupAboveSigma.isFinite) {
            throw ValidationError("--single-group-above-sigma must be a finite σ ≥ 0")
        }
        if initial == .blobs && field != .grid { throw ValidationError("--initial blobs needs --field grid") }
        if let startSigma, !(startSigma > 0 && startSigma.isFinite) { throw ValidationError("--start-sigma must be a positive number") }
        if let noiseCorrelation, !(noiseCorrelation >= 0 && noiseCorrelation <= 1) { throw ValidationError("--noise-correlation must be in [0, 1]") }
        guard smoothness >= 0, sparsity >= 0, smoothness.isFinite, sparsity.isFinite else {
            throw ValidationError("--smoothness and --sparsity must be finite and ≥ 0")
        }
        try OptionCheck.range("--samples-per-ray", samplesPerRay, OptionLimits.samplesPerRay)
        try OptionCheck.range("--frames", frames, OptionLimits.frames)
        try OptionCheck.range("--display-size", displaySize, OptionLimits.displaySize)
        try OptionCheck.range("--cg-iterations", cgIterations, OptionLimits.cgIterations)
        try OptionCheck.range("--checkpoint-every", checkpointEvery, 1...Int.max)
        if let mesh, !(mesh.hasSuffix(".ply") || mesh.hasSuffix(".obj")) {
            throw ValidationError("--mesh must end in .ply or .obj")
        }
        if let stopAfter {
            guard sampling.sampler == .pullback else {
                throw ValidationError("--stop-after applies to --sampler pullback (sds and sjc keep no checkpoint to resume)")
            }
            guard sampling.steps >= 2 else { throw ValidationError("--stop-after needs --steps ≥ 2 (there is no step to stop after)") }
            try OptionCheck.range("--stop-after", stopAfter, 1...(sampling.steps - 1))
        }
    }

    /// Where each view's noise comes from: `--noise`, else the model's default (carried for a
    /// single-view model, azimuth for a multi-view one).
    func noiseSource(multiView: Bool) -> NoiseSource { noise ?? (multiView ? .azimuth : .carried) }
    /// `--noise-correlation`, else the library's default for the model's views.
    func noiseCorrelation(multiView: Bool) -> Float {
        noiseCorrelation ?? (multiView ? Self.multiViewDefaults : Self.defaults).noiseCorrelation
    }
    /// The azimuth count of azimuth noise (`nil` for the other sources).
    func azimuthCount(multiView: Bool) -> Int? {
        let source = noiseSource(multiView: multiView)
        guard source == .azimuth || source == .azimuthSharedMean else { return nil }
        return azimuthSteps ?? (multiView ? NeRFDiffrep.quarterTurnAzimuthSteps : 16)
    }

    /// The σ above which a multi-view pullback run draws one quarter-turn group only (`nil` for
    /// the other runs: single-view models, other noise sources, SDS and SJC).
    func singleGroupSigma(multiView: Bool) -> Float? {
        guard multiView, sampling.sampler == .pullback, azimuthCount(multiView: true) != nil else { return nil }
        return singleGroupAboveSigma ?? NeRFDiffrep.quarterTurnSingleGroupSigma
    }

    /// The guidance weight without `--guidance`, per sampler, as measured with the multi-view
    /// model (docs/DESIGN.md, "Guidance for multi-view NeRFs"): pullback 2 (lower KID on four of
    /// six classes, more diversity and silhouette change on all six than 3), SDS 5 (at 3 its boxes
    /// and tori collapse), SJC 5 (lower KID than at 3 on five of six classes; at 3 its tori are
    /// empty, at 2 its boxes); 3 with single-view models.
    static func defaultGuidance(sampler: SamplerKind, multiView: Bool) -> Float {
        guard multiView else { return ModelOptions.defaultGuidance }
        switch sampler {
        case .pullback: return 2
        case .sds, .sjc: return 5
        }
    }

    /// The run's settings as the manifest and a checkpoint's identity record them; the noise
    /// settings depend on whether the model is multi-view.
    func settings(multiView: Bool, guidance: Float) -> [String: JSONValue] {
        sampling.settings.merging([
            // The views used (single-view checkpoints made so far carry the same value and still
            // resume; multi-view ones, made with two groups per step, are refused by name).
            "views_per_step": .int(requestedViewsPerStep(multiView: multiView)),
            "resample": .int(sampling.resample ?? Self.defaults.resample),
            "field": .string(field.rawValue), "resolution": .int(gridResolution), "samples_per_ray": .int(samplesPerRay),
            "state": .string(state.rawValue), "noise_correlation": JSONValue(noiseCorrelation(multiView: multiView)), "camera_from_sigma": cameraFromSigma.map { JSONValue($0) } ?? .null, "noise": .string(noiseSource(multiView: multiView).rawValue), "tile_noise": .string(tileNoise.rawValue), "carried_above_sigma": carriedAboveSigma.map { JSONValue($0) } ?? .null,
            "initial": .string(initial.rawValue), "start_sigma": startSigma.map { JSONValue($0) } ?? .null,
            "cg_iterations": .int(cgIterations), "smoothness": JSONValue(smoothness), "sparsity": JSONValue(sparsity),
        ]) { $1 }.merging(model.settings(guidance: guidance)) { $1 }
            .merging(azimuthCount(multiView: multiView).map { ["azimuth_steps": .int($0)] } ?? [:]) { $1 }   // only with azimuth noise: older checkpoints still resume
            .merging(singleGroupSigma(multiView: multiView).map { ["single_group_above_sigma": JSONValue($0)] } ?? [:]) { $1 }
            .merging(field == .hash ? ["hash_width": .int(hashMLPWidth), "hash_finest": .int(hashFinestLevel)] : [:]) { $1 }
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: true)
        defer { output.end() }
        if let pipeline = try model.loadPipeline() { return try run(pipeline, output: output) }
        let outURL = output.folder
        let meshURL = try mesh.map { try Self.checkedMeshURL($0, in: outURL) }
        let m = try model.load(defaultFolder: DefaultModel.nerfFolder, views: true) { multiView in
            Self.defaultGuidance(sampler: sampling.sampler, multiView: multiView)
        }
        let viewsPerStep = try self.viewsPerStep(multiView: m.viewTiles)
        try resources.check(memoryEstimate(imageSize: m.imageShape[1], unet: m.unet.config, views: viewsPerStep))
        let noise = noiseSource(multiView: m.viewTiles)
        if let azimuthSteps, noise != .azimuth && noise != .azimuthSharedMean {
            throw ValidationError("--azimuth-steps \(azimuthSteps) applies to azimuth noise; this run's noise is \(noise.rawValue)")
        }
        if let singleGroupAboveSigma, singleGroupSigma(multiView: m.viewTiles) == nil {
            throw ValidationError("--single-group-above-sigma \(singleGroupAboveSigma) applies to pullback runs of a multi-view model with azimuth noise")
        }
        if m.viewTiles, let n = azimuthCount(multiView: true), n % QuarterTurnTiles.viewCount != 0 {
            throw ValidationError("--azimuth-steps \(n): a multi-view model's views come in quarter turns, so the azimuth count must be a multiple of 4")
        }
        var manifest = try m.manifest("nerf", seed: sampling.seed, settings: settings(multiView: m.viewTiles, guidance: m.guidance).merging([
            "multi_view": .bool(m.viewTiles), "grid_render": .string(gridRender.rawValue)]
            .merging(field == .hash ? ["empty_space": .string((emptySpace ?? .skip).rawValue)] : [:]) { $1 }) { $1 })
        let identity = checkpointSettings(modelFiles: manifest.modelFiles, multiView: m.viewTiles, guidance: m.guidance)
        let start = field == .grid && initial == .blobs ? VoxelGridField.randomBlobs(resolution: gridResolution, seed: sampling.seed)
            : field.make(resolution: gridResolution, seed: sampling.seed, hashWidth: hashMLPWidth, hashFinest: hashFinestLevel)
        if emptySpace == .evaluate, let hash = start as? HashGridField { hash.emptySpace = nil }
        let nerf = NeRFDiffrep(field: start, imageSize: m.imageShape[1],
                               renderer: NeRFRenderer(samplesPerRay: samplesPerRay, voxelGridPath: gridRender.path))
        nerf.smoothness = smoothness
        nerf.viewsInQuarterTurns = m.viewTiles         // a multi-view model denoises four views a quarter turn apart together
        // Azimuth noise draws pullback views at its azimuths; SDS and SJC only with --azimuth-steps
        // given (their views at those azimuths, for a like-for-like check); otherwise any azimuth.
        nerf.azimuthSteps = sampling.sampler == .pullback ? azimuthCount(multiView: m.viewTiles) : azimuthSteps
        nerf.singleGroupAboveSigma = singleGroupSigma(multiView: m.viewTiles)
        nerf.sparsity = sparsity
        let checkpoint = outURL.appendingPathComponent("nerf.safetensors")
        let startStep = resume ? try NerfRunCheckpoint.load(checkpoint, into: nerf, settings: identity) : 0
        if resume { log("resumed at step \(startStep) from \(checkpoint.path)") }
        if let stopAfter, stopAfter <= startStep {
            throw ValidationError("--stop-after \(stopAfter) is not after the checkpoint's step \(startStep): give a later step or drop --stop-after")
        }

        // Sample.
        let report: SamplingReport
        let label = model.classLabel.map { "nerf (\($0))" } ?? "nerf"
        switch sampling.sampler {
        case .pullback where startStep >= sampling.steps:
            guard startStep == sampling.steps else {
                throw ValidationError("--resume: the checkpoint is at step \(startStep), beyond --steps \(sampling.steps)")
            }
            log("the checkpoint has finished all \(startStep) steps: writing the outputs")
            report = SamplingReport()
        case .pullback:
            // Options not given stay nil: the NeRF's own settings (Adam, which takes its priors; resampling 2).
            var config = PullbackSampler.Configuration(
                sigmas: try m.schedule.checkedDDIMSigmas(steps: sampling.steps), viewsPerStep: viewsPerStep,
                eta: sampling.eta, resample: sampling.resample,
                solver: sampling.solver.map { $0 == .cg ? .conjugateGradient(iterations: cgIterations) : .adam() },
                seed: sampling.seed, classLabel: m.classLabel ?? m.nullClass, state: state)
            let sigmas = config.sigmas
            let firstLevel = startSigma.map { s in sigmas.firstIndex { $0 <= s } ?? 0 } ?? 0
            config.startStep = Swift.max(startStep, Swift.min(firstLevel, sigmas.count - 2))
            config.noiseCorrelation = noiseCorrelation(multiView: m.viewTiles)
            config.carriedAboveSigma = carriedAboveSigma
            config.carriedNoiseImages = tileNoise == .shared ? 1 : nil     // nil: one per tile slot for a multi-view model
            config.viewConsistentNoise = noise != .carried
            config.cameraFromSigma = cameraFromSigma
            config.shareNoiseMean = noise == .surfaceSharedMean || noise == .azimuthSharedMean
            let bar = ProgressBar(label, total: sampling.steps, initialStep: startStep)
            var saveFailure: Error?
            do {
                report = try PullbackSampler(denoiser: m.denoiser, configuration: config).sample(nerf) { p in
                bar.update(step: p.step, extra: ["σ": Double(p.sigma)])
                if (p.step % checkpointEvery == 0 || p.step == stopAfter) && p.step < p.totalSteps {
                    do { try NeRFCheckpoint.save(nerf, step: p.step, settings: identity, to: checkpoint) } catch {
                        saveFailure = error     // stop: the last checkpoint written stays in place (atomic saves)
                        return false
                    }
                }
                return p.step != stopAfter
            }
            } catch SamplingError.cancelled(let step) {
                bar.finish()
                if let saveFailure { throw CheckpointSaveError(step: step, path: checkpoint.path, underlying: saveFailure) }
                guard step == stopAfter else { throw SamplingError.cancelled(afterStep: step) }
                log("stopped after step \(step); continue with the same flags and --resume")
                return
            }
            bar.finish()
        case .sds, .sjc:
            report = try sampling.run(nerf, model: m, seed: sampling.seed, label: label, views: viewsPerStep)
        }
        try NeRFCheckpoint.save(nerf, step: sampling.sampler == .pullback ? sampling.steps : sampling.iterations,
                                settings: identity, to: checkpoint)
        manifest.addOutput("nerf.safetensors")
        if let grid = (nerf.field as? HashGridField)?.emptySpace {
            manifest.measurements["occupied_cells"] = Double(grid.occupiedFraction)     // where the last renders evaluated the field
        }
        let eight = nerf.turntable(frames: 8)      // for a multi-view model in quarter-turn groups: 0°, 90°, 180°, 270°, then 45°, …
        let quality = NerfQuality.measure(nerf, views: m.viewTiles ? [0, 2, 4, 6, 1, 3, 5, 7].map { eight[$0] } : eight, denoiser: m.denoiser,
                                          classLabel: m.classLabel ?? m.nullClass, seed: sampling.seed)
        for (name, value) in quality { manifest.measurements["quality_" + name] = value }
        log(String(format: "quality: chroma %.2f, background deviation %.3f, coverage %.2f, denoiser change %.3f",
                   quality["chroma"]!, quality["background_deviation"]!, quality["coverage"]!, quality["denoiser_change"]!))

        // What the evaluation sees: recognisability and 3D consistency of this run's own turntable,
        // next to real toys of the class from the same views (Evaluation module).
        do {
            let figures = try Self.evaluationFigures(nerf, classLabel: m.classLabel, frames: 24,
                                                    pose: try ToyDataset.pose(ofModel: m.folder))
            for (name, value) in figures { manifest.measurements["eval_" + name] = value }
            log(Self.describe(figures))
        } catch {
            log("evaluation figures skipped: \(error)")
        }

        // Turntable, depth and opacity.
        let views = nerf.turntable(frames: frames)
        var frameImages: [PNGImage] = [], depths: [Tensor] = [], opacities: [Tensor] = []
        for (k, view) in views.enumerated() {
            let r = nerf.display(view, size: displaySize)
            let image = try PNGImage(tensor: r.image)
            frameImages.append(image)
            try PNG.write(image, to: try output.file(String(format: "turntable/frame_%03d.png", k)).path)
            if k % Swift.max(frames / 4, 1) == 0 && depths.count < 4 { depths.append(r.depth); opacities.append(r.opacity) }
        }
        try APNG.write(frames: frameImages, delayMs: 80, to: try output.file("turntable.png").path)
        try PNG.write(NerfMaps.strip(depths, normalise: true), to: try output.file("depth.png").path)
        try PNG.write(NerfMaps.strip(opacities, normalise: false), to: try output.file("opacity.png").path)
        manifest.addOutput("turntable.png")
        manifest.addOutput("turntable/")
        manifest.addOutput("depth.png")
        manifest.addOutput("opacity.png")

        manifest.measurements["denoiser_seconds"] = report.denoiserSeconds
        manifest.measurements["solve_seconds"] = report.solveSeconds
        manifest.measurements["sampling_seconds"] = report.totalSeconds
        manifest.finish()
        try manifest.write(to: try output.file(OutputRun.manifestName))
        try output.commit(outputs: manifest.outputs)   // before the mesh: a mesh that fails loses nothing else (an old mesh is gone)
        let manifestURL = outURL.appendingPathComponent(OutputRun.manifestName)
        if let mesh, let url = meshURL {
            let written = try NerfMesh.write(nerf, to: url)
            manifest.addOutput(mesh)
            manifest.measurements["mesh_triangles"] = Double(written.triangles)
            manifest.measurements["mesh_density_level"] = Double(written.level)
            manifest.measurements["mesh_silhouette_iou"] = written.silhouetteIoU
            try manifest.write(to: manifestURL)
            log(String(format: "mesh: %d triangles at density %.3g (silhouette IoU with the opacity maps %.2f) → %@",
                       written.triangles, written.level, written.silhouetteIoU, url.path))
        }
        log(String(format: "wrote %@ (sampling %.0f s: denoiser %.0f s, solve %.0f s)", outURL.path,
                   report.totalSeconds, report.denoiserSeconds, report.solveSeconds))
    }
}

extension NerfCommand {
    /// The settings a checkpoint must match to be resumed: every sampling setting plus the seed
    /// and the model's file digests (a resume with another seed or model is refused).
    func checkpointSettings(modelFiles: [String: String], multiView: Bool, guidance: Float) -> [String: JSONValue] {
        settings(multiView: multiView, guidance: guidance).merging(["seed": .string("\(sampling.seed)"),
                          "model_files": JSONValue(object: modelFiles.mapValues(JSONValue.string))]) { $1 }
    }

    /// `--mesh` resolved against the output folder, checked before sampling: its folder must
    /// exist and be writable, and the path must not be a folder.
    static func checkedMeshURL(_ mesh: String, in folder: URL) throws -> URL {
        let url = URL(fileURLWithPath: mesh, relativeTo: folder).standardizedFileURL
        let parent = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("--mesh '\(mesh)': the folder '\(parent)' does not exist (create it first, or give a path in an existing folder)")
        }
        guard FileManager.default.isWritableFile(atPath: parent) else {
            throw ValidationError("--mesh '\(mesh)': the folder '\(parent)' is not writable")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw ValidationError("--mesh '\(mesh)': '\(url.path)' is a folder, not a file")
        }
        return url
    }

    /// Views rendered per step: `--views-per-step`, or the default — 6; for a multi-view model,
    /// whose views come in quarter-turn groups, one group (4) for pullback and two (8) for SDS and
    /// SJC, whose measured tables used eight (docs/DESIGN.md, "One group per step"). Unchecked:
    /// ``viewsPerStep(multiView:)`` validates it.
    func requestedViewsPerStep(multiView: Bool) -> Int {
        guard multiView else { return sampling.viewsPerStep ?? Self.defaults.viewsPerStep }
        return sampling.viewsPerStep ?? (sampling.sampler == .pullback ? Self.multiViewDefaults.viewsPerStep
                                                                      : Self.scoreDistillationMultiViewViews)
    }

    /// ``requestedViewsPerStep(multiView:)``, refused for a multi-view model unless whole groups of four.
    func viewsPerStep(multiView: Bool) throws -> Int {
        let n = requestedViewsPerStep(multiView: multiView)
        guard !multiView || n % QuarterTurnTiles.viewCount == 0 else {
            throw ValidationError("--views-per-step \(n): this multi-view model denoises views in groups of \(QuarterTurnTiles.viewCount) a quarter turn apart; give a multiple of \(QuarterTurnTiles.viewCount)")
        }
        return n
    }

    /// What this run holds at its peak: the field with its optimiser state, the sampler's
    /// renders (every ray sample kept for the backward pass) and the denoiser's batch (doubled by
    /// guidance), the turntable renders and the frames kept for the animated PNG.
    func memoryEstimate(imageSize: Int, unet: UNet2DConfig, views viewCount: Int) -> MemoryEstimate {
        var e = MemoryEstimate()
        let r = Double(gridResolution), views = Double(viewCount), h = Double(hashMLPWidth)
        let samples = Double(samplesPerRay), size = Double(imageSize), display = Double(displaySize)
        e.add("field and optimiser state", floats: 6 * (field == .grid ? 4 * r * r * r : 8 * 16_384 * 2 + 3 * h * h))
        e.add("sampling renders", floats: 32 * views * size * size * samples)
        var batch = unet
        batch.sampleSize = imageSize
        e.add("denoiser activations", floats: ResourceFigures.unetActivations(batch, batch: 2 * views, training: false))
        e.add("evaluation renders", floats: 16 * 24 * size * size * samples)
        e.add("turntable renders", floats: 16 * display * display * samples)
        e.add("turntable frames", bytes: 2 * 4 * Double(frames) * display * display)
        return e
    }

    /// Recognisability (with a class), KID and the 3D figures (with their real-toy ratios) of a
    /// NeRF's turntable rendered at the model's size, judged by the shipped classifier.
    /// Real toys are posed like the model's training data (`pose`).
    static func evaluationFigures(_ nerf: NeRFDiffrep, classLabel: Int?, frames: Int, pose: ToyPose) throws -> [String: Double] {
        let evaluator = SampleEvaluator(classifier: try ToyClassifier(contentsOf: DefaultModel.classifierWeights), pose: pose)
        evaluator.frames = frames
        evaluator.size = nerf.renderShape[1]
        guard evaluator.size % 8 == 0 else { return [:] }
        let row = evaluator.evaluate(turntables: [Turntable(nerf: nerf, frames: frames, size: evaluator.size)],
                                     name: "this run", classLabel: classLabel)
        var f: [String: Double] = ["kid_x1000": row.kid, "kid_x1000_standard_error": row.kidStandardError,
                                   "silhouette_change": row.silhouetteChange ?? 0, "real_silhouette_change": row.realSilhouetteChange ?? 0,
                                   "view_consistent_change": row.viewChange ?? 0, "real_view_consistent_change": row.realViewChange ?? 0]
        if let r = row.recognisability {
            f["recognised"] = r.accuracy
            f["class_probability"] = r.meanProbability
        }
        return f
    }

    static func describe(_ f: [String: Double]) -> String {
        var parts: [String] = []
        if let r = f["recognised"], let p = f["class_probability"] {
            parts.append(String(format: "recognised in %.0f%% of frames (P %.2f)", 100 * r, p))
        }
        func ratio(_ a: String, _ b: String) -> String {
            guard let x = f[a], let y = f[b], y != 0 else { return "?" }
            return String(format: "%.3f (%.2f× real)", x, x / y)
        }
        parts.append("silhouette change " + ratio("silhouette_change", "real_silhouette_change"))
        parts.append("view-consistent change " + ratio("view_consistent_change", "real_view_consistent_change"))
        parts.append(String(format: "KID×10³ %.1f", f["kid_x1000"] ?? 0))
        return "evaluation: " + parts.joined(separator: ", ")
    }
}

extension PullbackSampler.StateMode: ExpressibleByArgument {}


/// `--grid-render`: the voxel grid's render path (a speed switch: both compute the same renders
/// to rounding, apart from rays the fused path stops early).
enum GridRenderPath: String, ExpressibleByArgument, CaseIterable {
    case fused, tape

    var path: NeRFRenderer.VoxelGridPath { self == .fused ? .default : .tape }
}

/// `--empty-space`: whether a hash grid's renders skip the cells its occupancy grid finds empty.
enum EmptySpaceMode: String, ExpressibleByArgument, CaseIterable {
    case skip, evaluate
}

/// `--initial`: the field sampling starts from.
enum InitialField: String, ExpressibleByArgument, CaseIterable {
    case empty, blobs
}

/// `--noise`: where the denoised state's per-view noise comes from.
enum NoiseSource: String, ExpressibleByArgument, CaseIterable {
    case carried, surface
    /// Views at `--azimuth-steps` azimuths, each with its own noise image for the run (the
    /// default for a multi-view model).
    case azimuth
    /// Azimuth noise with the carried image's per-channel mean (experimental).
    case azimuthSharedMean = "azimuth-shared-mean"
    /// Surface noise whose per-channel mean is the carried image's (experimental).
    case surfaceSharedMean = "surface-shared-mean"
}

extension RadianceFieldKind: ExpressibleByArgument {}

/// The NeRF checkpoint's command-line side: `--resume` and `diffrep eval nerf` messages around
/// the library's ``NeRFCheckpoint``.
enum NerfRunCheckpoint {
    /// Loads the field's parameters into `nerf` and returns the step to continue from.
    static func load(_ url: URL, into nerf: NeRFDiffrep, settings: [String: JSONValue]) throws -> Int {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ValidationError("--resume: no checkpoint at '\(url.path)'") }
        // Settings first: a checkpoint of another field or width is refused by the setting's name.
        if let differing = NeRFCheckpoint.mismatch(try NeRFCheckpoint.settings(contentsOf: url), settings) {
            let names = differing.map { $0 == "model_files" ? "model" : $0 }.joined(separator: ", ")
            throw ValidationError("--resume: the checkpoint '\(url.path)' was made with different settings (\(names.isEmpty ? "unknown" : names)); rerun with the same flags, seed and model")
        }
        return try parameters(url, into: nerf).step
    }

    /// Copies a checkpoint's parameters into `nerf` (every one present with its shape) and
    /// returns its step and the settings it was made with; `diffrep eval nerf` reads runs this way.
    static func parameters(_ url: URL, into nerf: NeRFDiffrep) throws -> (step: Int, settings: String?) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ValidationError("no NeRF checkpoint at '\(url.path)'") }
        return try NeRFCheckpoint.restore(contentsOf: url, into: nerf)
    }
}

/// A checkpoint save during sampling failed: the run stops, and the last checkpoint written
/// before it stays in place for `--resume`.
struct CheckpointSaveError: Error, CustomStringConvertible {
    /// The sampler step whose checkpoint could not be saved.
    let step: Int
    /// The checkpoint file.
    let path: String
    /// Why the save failed.
    let underlying: Error

    var description: String {
        "saving the checkpoint '\(path)' after step \(step) failed: \(underlying); the run stopped, and the last checkpoint saved before it is kept for --resume"
    }
}

/// Depth and opacity maps as one image strip.
enum NerfMaps {
    /// `[H, W]` maps side by side as a grey image in [-1, 1] (depth normalised to its range).
    static func strip(_ maps: [Tensor], normalise: Bool) -> Tensor {
        let (h, w) = (maps[0].shape[0], maps[0].shape[1])
        var values = [Float](repeating: 0, count: h * w * maps.count)
        let all = maps.flatMap(\.data)
        let lo = normalise ? (all.min() ?? 0) : 0, hi = normalise ? (all.max() ?? 1) : 1
        for (k, m) in maps.enumerated() {
            for i in 0..<h { for j in 0..<w {
                let v = (m.data[i * w + j] - lo) / Swift.max(hi - lo, 1e-6)
                values[i * w * maps.count + k * w + j] = 2 * v - 1
            } }
        }
        return Tensor([1, h, w * maps.count], data: values)
    }
}
