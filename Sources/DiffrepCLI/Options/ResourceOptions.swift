import ArgumentParser
import RunSupport

/// `--max-memory`: the memory a run may plan to use. Every command that allocates by its
/// options estimates its peak first (model, representation, renders, outputs) and refuses a run
/// that needs more, with the estimate and the limit in the message.
struct ResourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Memory this run may use, e.g. 16G or 512M (default: \(Int(MemoryLimit.defaultFraction * 100))% of physical memory). A run whose estimated peak is larger is refused before it starts.",
                               valueName: "size"))
    var maxMemory: String?

    func validate() throws {
        _ = try limit()
    }

    /// The limit: `--max-memory`, or the default share of physical memory.
    func limit() throws -> MemoryLimit {
        guard let maxMemory else { return .default }
        do { return try MemoryLimit(parsing: maxMemory, option: "--max-memory") } catch { throw ValidationError(error.description) }
    }

    /// Throws ``ResourceLimitError`` when `estimate` is above the limit.
    func check(_ estimate: MemoryEstimate) throws {
        try estimate.check(against: try limit())
    }
}
