import Foundation

/// Why a safetensors file could not be read or written. Every validation failure has its own
/// case, and the description names the file's problem (and the tensor, where there is one).
///
/// ```swift
/// do { _ = try SafeTensors.load(contentsOf: url) }
/// catch let e as SafeTensorsError { print(e) }   // e.g. "tensor 'w': data_offsets [0, 64] end past the data section (48 bytes)"
/// ```
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case fileTooShort(byteCount: Int)
    /// The declared header length runs past the end of the file.
    case headerLengthExceedsFile(headerLength: UInt64, available: Int)
    /// The header is not valid UTF-8 JSON, or not a JSON object.
    case invalidHeaderJSON(reason: String)
    /// Two header entries share a name.
    case duplicateTensorName(String)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(reason: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`, or has values of the wrong kind.
    case invalidTensorEntry(name: String, reason: String)
    /// The dtype is unknown, or known to safetensors but not readable here (only F32, F16, BF16 are).
    case unsupportedDType(name: String, dtype: String)
    /// `data_offsets` has its end before its begin.
    case invalidOffsets(name: String, begin: Int, end: Int)
    /// `data_offsets` reaches past the end of the data section.
    case offsetsOutOfBounds(name: String, begin: Int, end: Int, dataLength: Int)
    /// The byte length `end − begin` is not `shape`'s element count times the dtype's size.
    case sizeMismatch(name: String, dtype: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(first: String, second: String)
    /// Bytes between two tensors (or before the first) belong to no tensor.
    case gapBeforeTensor(name: String, expectedOffset: Int, actualOffset: Int)
    /// Bytes after the last tensor belong to no tensor.
    case trailingBytes(count: Int)
    /// The file could not be written (nothing was left half-written).
    case writeFailed(path: String, reason: String)
    /// A file read by ``SafeTensors/read(contentsOf:)`` is malformed: its path and what is wrong.
    indirect case inFile(path: String, SafeTensorsError)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read safetensors file '\(path)': \(reason)"
        case let .fileTooShort(n):
            return "safetensors file is \(n) bytes, too short for the 8-byte header length"
        case let .headerLengthExceedsFile(h, available):
            return "safetensors header length \(h) exceeds the \(available) bytes after the length field (truncated or not a safetensors file)"
        case let .invalidHeaderJSON(reason):
            return "safetensors header is not a valid JSON object: \(reason)"
        case let .duplicateTensorName(name):
            return "safetensors header names '\(name)' twice"
        case let .invalidMetadata(reason):
            return "safetensors __metadata__ is invalid: \(reason)"
        case let .invalidTensorEntry(name, reason):
            return "tensor '\(name)': invalid header entry: \(reason)"
        case let .unsupportedDType(name, dtype):
            let known = SafeTensors.knownDTypes.contains(dtype)
            return "tensor '\(name)': \(known ? "dtype \(dtype) is not supported" : "unknown dtype '\(dtype)'") (readable: F32, F16, BF16)"
        case let .invalidOffsets(name, b, e):
            return "tensor '\(name)': data_offsets [\(b), \(e)] end before they begin"
        case let .offsetsOutOfBounds(name, b, e, n):
            return "tensor '\(name)': data_offsets [\(b), \(e)] end past the data section (\(n) bytes)"
        case let .sizeMismatch(name, dtype, shape, expected, actual):
            return "tensor '\(name)': shape \(shape) of \(dtype) needs \(expected) bytes, data_offsets span \(actual)"
        case let .overlappingTensors(a, b):
            return "tensors '\(a)' and '\(b)' overlap in the data section"
        case let .gapBeforeTensor(name, expected, actual):
            return "tensor '\(name)' starts at byte \(actual), but the previous tensor ends at \(expected) (unused bytes in the data section)"
        case let .trailingBytes(n):
            return "\(n) bytes after the last tensor belong to no tensor"
        case let .writeFailed(path, reason):
            return "cannot write safetensors file '\(path)': \(reason)"
        case let .inFile(path, problem):
            return "'\(path)': \(problem)"
        }
    }

    public var errorDescription: String? { description }
}
