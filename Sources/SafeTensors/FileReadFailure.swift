import Foundation

/// Why a file could not be read, in the file system's words ("No such file or directory",
/// "'/a/b' is a file, not a folder", "it is a folder, not a file") instead of Foundation's
/// "The operation could not be completed. (NSCocoaErrorDomain error 256.)".
///
/// ```swift
/// do { _ = try Data(contentsOf: url) } catch { print(FileReadFailure.reason(url, error)) }
/// ```
/// Package-wide: every reader of model files (safetensors, checkpoints, Diffusion's configs) uses it.
package enum FileReadFailure {
    package static func reason(_ url: URL, _ error: any Error) -> String {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isFolder) {
            if isFolder.boolValue { return "it is a folder, not a file" }
            if !fm.isReadableFile(atPath: url.path) { return "Permission denied" }
        } else {
            var ancestor = url.deletingLastPathComponent()
            while ancestor.path != "/" && !ancestor.path.isEmpty {
                if fm.fileExists(atPath: ancestor.path, isDirectory: &isFolder) {
                    return isFolder.boolValue ? "No such file or directory" : "'\(ancestor.path)' is a file, not a folder"
                }
                ancestor = ancestor.deletingLastPathComponent()
            }
            return "No such file or directory"
        }
        let ns = error as NSError
        let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        let posix = [underlying, ns].compactMap { $0 }.first { $0.domain == NSPOSIXErrorDomain }
        return posix.map { String(cString: strerror(Int32($0.code))) } ?? ns.localizedDescription
    }
}
