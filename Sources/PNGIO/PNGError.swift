/// Errors from reading or writing PNG files; `message` carries libpng's own text.
public enum PNGError: Error, CustomStringConvertible {
    case read(path: String, message: String)
    case write(path: String, message: String)

    public var description: String {
        switch self {
        case let .read(path, message): return "cannot read PNG '\(path)': \(message)"
        case let .write(path, message): return "cannot write PNG '\(path)': \(message)"
        }
    }
}
