import ArgumentParser
import RunSupport
import TensorCore

/// The `diffrep` command: sample differentiable representations with a diffusion model.
@main
struct DiffrepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffrep",
        abstract: "Sample images, seamless panoramas and NeRFs with a pretrained image diffusion model.",
        discussion: """
            Diffreps pulls the reverse-time diffusion process back into the parameters of a \
            differentiable representation (Savani, Finzi & Kolter, NeurIPS 2024). Every command \
            runs with no flags, using the embedded default model (a UNet trained on procedural toys).
            """,
        version: DiffrepVersion.string,
        subcommands: [NerfCommand.self, ImageCommand.self, PanoramaCommand.self, SampleCommand.self, TrainCommand.self, TrainClassifierCommand.self, EvalCommand.self, DatasetCommand.self])

    /// Entry point: makes sure OpenBLAS runs the CPU's widest kernels (a relaunch, once, where it
    /// fell back to generic ones), tunes the allocator for numeric work, then parses and runs the
    /// subcommand.
    static func main() {
        BLASKernels.relaunchIfNarrowerThanCPU()
        MemoryTuning.keepFreedMemory()
        main(nil)
    }
}

enum DiffrepVersion {
    static let string = "0.1.0"
}
