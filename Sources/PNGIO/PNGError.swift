/// Errors from reading or writing PNG files; `message` carries libpng's own text
/// (or the system's, for file-system failures).
///
/// ```swift
/// do { _ = try PNG.read("missing.png") }
/// catch let error as PNGError { print(error) }   // cannot read PNG 'missing.png': No such file or directory
/// ```
public enum PNGError: Error, CustomStringConvertible, Equatable {
    /// The file (or in-memory data, path `"<memory>"`) could not be decoded: missing, not a PNG,
    /// truncated, corrupt, or too large.
    case read(path: String, message: String)
    /// The image could not be encoded or the file could not be written (missing or unwritable folder).
    case write(path: String, message: String)
    /// The caller's image or tensor does not describe a PNG this module can write
    /// (wrong shape, channel count, frame sizes …).
    case invalidImage(message: String)

    public var description: String {
        switch self {
        case let .read(path, message): return "cannot read PNG '\(path)': \(message)"
        case let .write(path, message): return "cannot write PNG '\(path)': \(message)"
        case let .invalidImage(message): return "invalid image: \(message)"
        }
    }
}
