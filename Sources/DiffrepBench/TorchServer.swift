// A PyTorch reference script running beside the benchmark in `--serve` mode: it prints one JSON
// line {"ready": true, …} once set up, then answers every request line read from its stdin with
// one JSON line. The benchmarks send a request right after timing their own side of the same
// measurement, so both sides are timed under the same load, repetition by repetition.
import Foundation

/// A `python3 Benchmarks/<script> --serve …` process answering JSON requests.
///
/// ```swift
/// let torch = try TorchServer(script: "train_bench.py", arguments: ["--threads", "1"])
/// let reply = torch.request(["steps": 1, "clock": "thread"])   // ["ms": [412.5]]
/// torch.close()
/// ```
final class TorchServer {
    /// The script's first line (`{"ready": true, "torch": …}`), parsed.
    let ready: [String: Any]
    private let process: Process
    private let input: FileHandle, output: FileHandle
    private var buffer = Data()
    private let errorFile: URL

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Starts `python3 Benchmarks/<script> --serve <arguments>` (found beside this source tree or
    /// under the current directory) and waits for its ready line, or explains why it could not.
    init(script: String, arguments: [String], environment extra: [String: String] = [:]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [root.appendingPathComponent("Benchmarks/\(script)").path,
                          FileManager.default.currentDirectoryPath + "/Benchmarks/\(script)"]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw Failure(description: "Benchmarks/\(script) not found")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path, "--serve"] + arguments
        var environment = ProcessInfo.processInfo.environment
        // Spinning OpenMP threads slow PyTorch down many times on a busy machine.
        if environment["OMP_WAIT_POLICY"] == nil { environment["OMP_WAIT_POLICY"] = "PASSIVE" }
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        let inPipe = Pipe(), outPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(script)-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardError = (try? FileHandle(forWritingTo: errorFile)) ?? FileHandle.nullDevice
        input = inPipe.fileHandleForWriting
        output = outPipe.fileHandleForReading
        do { try process.run() } catch { throw Failure(description: "could not start python3 (\(error))") }
        var first: [String: Any]? = nil
        while true {
            guard let line = Self.readLine(output, &buffer) else { break }
            if let object = line, object["ready"] as? Bool == true { first = object; break }
        }
        guard let first else {
            process.waitUntilExit()
            let text = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: errorFile)
            let last = text.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw Failure(description: "python3 + torch not usable for \(script): \(last)")
        }
        ready = first
    }

    /// The next line of `handle`: nil at its end, `.some(nil)` for a line that is not a JSON object.
    private static func readLine(_ handle: FileHandle, _ buffer: inout Data) -> [String: Any]?? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                return .some((try? JSONSerialization.jsonObject(with: line)) as? [String: Any])
            }
            let more = handle.availableData
            if more.isEmpty { return nil }
            buffer.append(more)
        }
    }

    /// Sends one request and returns the reply (nil when the script has stopped answering).
    func request(_ body: [String: Any]) -> [String: Any]? {
        guard let data = try? JSONSerialization.data(withJSONObject: body) else { return nil }
        input.write(data + Data("\n".utf8))
        guard let line = Self.readLine(output, &buffer) else { return nil }
        return line
    }

    /// Milliseconds the reply lists under `"ms"` (empty when there are none).
    func milliseconds(_ body: [String: Any]) -> [Double] {
        guard let reply = request(body) else { return [] }
        if let list = reply["ms"] as? [Double] { return list }
        if let one = reply["ms"] as? Double { return [one] }
        return []
    }

    func close() {
        try? input.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errorFile)
    }
}
