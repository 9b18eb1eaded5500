import Foundation
import JSON
import SafeTensors

/// A NeRF saved mid-run: its ``NeRFDiffrep/parameters`` by name, the step they were saved at, and
/// the settings of the run they belong to (as canonical JSON), in one safetensors file
/// (``ParameterCheckpoint``). `diffrep nerf` writes `nerf.safetensors` this way, resumes from it
/// when the settings match, and `diffrep eval nerf` reads it back.
///
/// ```swift
/// try NeRFCheckpoint.save(nerf, step: 12, settings: ["steps": 50, "seed": "3"], to: url)
/// let (step, saved) = try NeRFCheckpoint.restore(contentsOf: url, into: nerf)
/// NeRFCheckpoint.mismatch(saved, ["steps": 60, "seed": "3"])   // ["steps"] (nil: may resume)
/// ```
public enum NeRFCheckpoint {
    /// The settings as canonical JSON text (keys sorted, no spaces): what a checkpoint stores and
    /// is compared by.
    public static func canonical(_ settings: [String: JSONValue]) throws -> String {
        String(decoding: try JSONValue(object: settings).encoded(), as: UTF8.self)
    }

    /// Writes `nerf`'s parameters at `step` with the run's `settings` to `url` atomically.
    public static func save(_ nerf: NeRFDiffrep, step: Int, settings: [String: JSONValue], to url: URL) throws {
        try ParameterCheckpoint.save(nerf.parameters, step: step, settings: try canonical(settings), to: url)
    }

    /// Copies the checkpoint's parameters into `nerf` (every one must be present with its shape,
    /// else nothing is copied and ``ParameterCheckpointError`` names the problem) and returns its
    /// step and the settings text it was saved with.
    public static func restore(contentsOf url: URL, into nerf: NeRFDiffrep) throws -> (step: Int, settings: String?) {
        let restored = try ParameterCheckpoint.restore(contentsOf: url, into: nerf.parameters)
        (nerf.field as? HashGridField)?.emptySpace?.invalidate()                  // refreshed from the loaded field
        return restored
    }

    /// The settings text the checkpoint at `url` was saved with (nil if none), restoring nothing.
    public static func settings(contentsOf url: URL) throws -> String? {
        try ParameterCheckpoint.settings(contentsOf: url)
    }

    /// Whether a checkpoint saved with the settings text `saved` may resume a run with `settings`:
    /// nil when it may (the canonical texts are equal), else the keys whose values differ (sorted;
    /// values compare as JSON text, so `3` and `3.0` agree; empty when the texts differ but no
    /// single key does, e.g. unreadable saved settings).
    public static func mismatch(_ saved: String?, _ settings: [String: JSONValue]) -> [String]? {
        if let saved, (try? canonical(settings)) == saved { return nil }
        let old = saved.flatMap { try? JSONValue.parse(Data($0.utf8)) } ?? [:]
        var keys = Set(settings.keys)
        if case .object(let members) = old { keys.formUnion(members.map(\.key)) }
        func text(_ v: JSONValue?) -> String? { try? canonical(v.map { ["v": $0] } ?? [:]) }
        return keys.sorted().filter { text(old[$0]) != text(settings[$0]) }
    }
}
