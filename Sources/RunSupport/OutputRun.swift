// One run's use of its output folder: locked, cleaned of stale temporaries, outputs staged and
// moved into place together at the end.

import Foundation
import JSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run's output folder (`--out DIR`), held for the run's duration.
///
/// ``begin(_:staged:)`` prepares the folder (``OutputFolder/prepare(_:)``), takes its
/// ``OutputLock`` (a second run into the same folder fails at once, naming the holder), and
/// removes the temporaries of runs that were killed (``StaleTemporaries``). A staged run writes
/// its outputs with ``file(_:)`` into `DIR/.staging-PID-RANDOM/`; ``commit(outputs:)`` then
/// moves them into place, removes the files the previous `manifest.json` listed that this run
/// did not write, and puts the new manifest in place last. So a folder never shows a new
/// manifest beside old outputs: a run that fails or is killed before the commit leaves the
/// previous run's complete results (and a stale staging folder, removed by the next run);
/// one killed during the commit leaves no manifest at all.
///
/// Checkpoints that `--resume` reads live in the folder itself (``folder``), not in staging.
///
/// ```swift
/// let run = try OutputRun.begin("out/image", staged: true)
/// defer { run.end() }
/// try PNG.write(image, to: run.file("image_00.png").path)
/// try manifest.write(to: run.file("manifest.json"))
/// try run.commit(outputs: manifest.outputs)
/// ```
public final class OutputRun: @unchecked Sendable {
    /// The output folder (absolute).
    public let folder: URL
    /// Where outputs are written until ``commit(outputs:)`` (nil for an unstaged run).
    public let staging: URL?
    private let lock: OutputLock
    private var committed = false

    private init(folder: URL, staging: URL?, lock: OutputLock) {
        self.folder = folder
        self.staging = staging
        self.lock = lock
    }

    /// The manifest's name, moved into place last by ``commit(outputs:)``.
    public static let manifestName = "manifest.json"

    /// Prepares and locks the folder at `path` and removes stale temporaries; with `staged`,
    /// creates the run's staging folder.
    ///
    /// - Throws: ``OutputFolderError`` when the folder cannot be used or another run holds it.
    public static func begin(_ path: String, staged: Bool) throws(OutputFolderError) -> OutputRun {
        let folder = try OutputFolder.prepare(path)
        let lock = try OutputLock.acquire(folder, asked: path)
        StaleTemporaries.remove(in: folder)
        var staging: URL?
        if staged {
            let url = folder.appendingPathComponent(".staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            guard mkdir(url.path, 0o755) == 0 else {
                let reason = String(cString: strerror(errno))
                lock.release()
                throw OutputFolderError(path: path, reason: "creating the staging folder '\(url.path)': \(reason)")
            }
            staging = url
        }
        return OutputRun(folder: folder, staging: staging, lock: lock)
    }

    /// Where to write the output `relativePath`: in the staging folder for a staged run (its
    /// parent folders created), else in the folder itself.
    public func file(_ relativePath: String) throws -> URL {
        let url = (staging ?? folder).appendingPathComponent(relativePath)
        let parent = url.deletingLastPathComponent()
        if parent.path != (staging ?? folder).path {
            do { try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
                throw OutputFolderError(path: folder.path, reason: "cannot create '\(parent.path)': \(OutputRun.reason(error))")
            }
        }
        return url
    }

    /// Moves the staged outputs into the folder: the old manifest is removed first, then every
    /// staged entry replaces its namesake, then the files the old manifest listed that are not in
    /// `outputs` are removed, and the staged manifest (if any) goes in last.
    ///
    /// - Parameter outputs: this run's outputs as its manifest lists them (relative paths; a
    ///   trailing `/` marks a folder). Files among them written straight into ``folder``
    ///   (checkpoints) are kept.
    public func commit(outputs: [String]) throws {
        guard let staging, !committed else { return }
        let fm = FileManager.default
        let previous = Self.listedOutputs(folder.appendingPathComponent(Self.manifestName))
        let manifestURL = folder.appendingPathComponent(Self.manifestName)
        if fm.fileExists(atPath: manifestURL.path) { try move(aside: manifestURL) }
        let staged = ((try? fm.contentsOfDirectory(atPath: staging.path)) ?? []).sorted()
        for name in staged where name != Self.manifestName {
            try replace(folder.appendingPathComponent(name), with: staging.appendingPathComponent(name))
        }
        let kept = Set(outputs.map(Self.topLevel)).union(staged)
        for old in previous where !kept.contains(Self.topLevel(old)) {
            guard let url = contained(old) else { continue }
            try? fm.removeItem(at: url)
        }
        if staged.contains(Self.manifestName) {
            try replace(manifestURL, with: staging.appendingPathComponent(Self.manifestName))
        }
        try? fm.removeItem(at: staging)
        committed = true
    }

    /// Releases the lock; an uncommitted staging folder is removed (the previous results stay).
    public func end() {
        if let staging, !committed { try? FileManager.default.removeItem(at: staging) }
        lock.release()
    }

    // MARK: helpers

    /// `to` replaced by `from`: a file by rename (atomic); a folder (or a file by a folder) by
    /// moving the old one into the staging folder first.
    private func replace(_ to: URL, with from: URL) throws {
        var info = stat()
        if lstat(to.path, &info) == 0 {
            let bothFiles = info.st_mode & S_IFMT == S_IFREG && !Self.isFolder(from)
            if !bothFiles { try move(aside: to) }
        }
        guard rename(from.path, to.path) == 0 else {
            throw OutputFolderError(path: folder.path, reason: "moving '\(from.lastPathComponent)' into place: " + String(cString: strerror(errno)))
        }
    }

    /// Moves `url` into the staging folder's `.replaced/` (removed with the staging folder).
    private func move(aside url: URL) throws {
        guard let staging else { return }
        let aside = staging.appendingPathComponent(".replaced")
        _ = mkdir(aside.path, 0o755)
        let target = aside.appendingPathComponent(url.lastPathComponent)
        guard rename(url.path, target.path) == 0 else {
            throw OutputFolderError(path: folder.path, reason: "moving the previous '\(url.lastPathComponent)' aside: " + String(cString: strerror(errno)))
        }
    }

    /// `relative` inside the folder, or nil when it would leave it (absolute, `..`, empty).
    private func contained(_ relative: String) -> URL? {
        let parts = relative.split(separator: "/")
        guard !relative.hasPrefix("/"), !parts.isEmpty, !parts.contains(".."), !parts.contains(".") else { return nil }
        return folder.appendingPathComponent(relative)
    }

    /// The outputs a manifest lists (empty when there is none or it cannot be read).
    static func listedOutputs(_ manifest: URL) -> [String] {
        guard let data = try? Data(contentsOf: manifest),
              case .array(let items)? = (try? JSONValue.parse(data))?["outputs"] else { return [] }
        let outputs = items.compactMap(\.stringValue)
        return outputs.count == items.count ? outputs : []
    }

    /// `turntable/frame_000.png` → `turntable`; `turntable/` → `turntable`.
    static func topLevel(_ relative: String) -> String {
        String(relative.split(separator: "/").first ?? "")
    }

    private static func isFolder(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    private static func reason(_ error: Error) -> String {
        ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription ?? (error as NSError).localizedDescription
    }
}
