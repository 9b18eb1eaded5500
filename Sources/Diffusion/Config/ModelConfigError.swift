// One error type for every model `config.json` (UNet, VAE, text encoder), told apart by its kind.

import Foundation

/// Which model's `config.json` a ``ModelConfigError`` is about: the label its messages start
/// with and the hint an unsupported value gets.
public protocol ModelConfigKind: Sendable {
    /// How messages name the file's kind, e.g. `"UNet config"`.
    static var label: String { get }
    /// What is implemented, shown after an unsupported value.
    static var supported: String { get }
}

/// A UNet (`UNet2DModel` or `UNet2DConditionModel`) `config.json`.
public enum UNetConfigKind: ModelConfigKind {
    public static let label = "UNet config"
    public static let supported = "diffreps implements UNet2DModel with DownBlock2D/AttnDownBlock2D/UpBlock2D/AttnUpBlock2D and UNet2DConditionModel with DownBlock2D/CrossAttnDownBlock2D/UpBlock2D/CrossAttnUpBlock2D/UNetMidBlock2DCrossAttn, positional time embedding, SiLU"
}

/// A VAE (`AutoencoderKL`) `config.json`.
public enum VAEConfigKind: ModelConfigKind {
    public static let label = "VAE config"
    public static let supported = "diffreps implements diffusers' AutoencoderKL with DownEncoderBlock2D/UpDecoderBlock2D, act_fn silu, no latents_mean/latents_std"
}

/// A text encoder (transformers `CLIPTextModel`) `config.json`.
public enum TextEncoderConfigKind: ModelConfigKind {
    public static let label = "text encoder config"
    public static let supported = "diffreps implements transformers' CLIPTextModel with hidden_act quick_gelu or gelu"
}

/// A model `config.json` problem, naming the file, the key and (where there is one) the value.
/// `Kind` only chooses the wording; the cases are the same for every model.
///
/// ```swift
/// do { _ = try UNet2DConfig(contentsOf: url) }
/// catch let e as UNetConfigError { print(e) }   // "UNet config 'm/config.json': norm_num_groups = 0 is out of range (allowed: 1…8192)"
/// ```
public enum ModelConfigError<Kind: ModelConfigKind>: Error, CustomStringConvertible, Equatable, LocalizedError {
    /// The file could not be read: path, reason.
    case unreadable(String, String)
    /// The file is not a JSON object.
    case notJSON(String)
    /// A key holds a value of the wrong JSON type (or a fractional number where an integer belongs).
    case wrongType(String, key: String, value: String, expected: String)
    /// A key holds a value outside what diffreps accepts.
    case outOfRange(String, key: String, value: String, allowed: String)
    /// A valid diffusers/transformers value this package does not implement.
    case unsupported(String, key: String, value: String)
    /// A key this package does not know.
    case unknownKey(String, String)
    /// A key written more than once (JSON readers disagree on which copy wins).
    case duplicateKey(String, String)
    /// Values that do not fit together (list lengths, divisibility).
    case inconsistent(String, String)

    public var description: String {
        let what = Kind.label
        switch self {
        case let .unreadable(f, why): return "cannot read \(what) '\(f)': \(why)"
        case let .notJSON(f): return "\(what) '\(f)' is not a JSON object"
        case let .wrongType(f, key, value, expected): return "\(what) '\(f)': \(key) = \(value) should be \(expected)"
        case let .outOfRange(f, key, value, allowed):
            return "\(what) '\(f)': \(key) = \(value) is out of range (allowed: \(allowed))"
        case let .unsupported(f, key, value):
            return "\(what) '\(f)': \(key) = \(value) is not supported (HINT: \(Kind.supported))"
        case let .unknownKey(f, key): return "\(what) '\(f)': unknown key '\(key)' is not supported"
        case let .duplicateKey(f, key): return "\(what) '\(f)': key '\(key)' appears more than once"
        case let .inconsistent(f, why): return "\(what) '\(f)': \(why)"
        }
    }

    public var errorDescription: String? { description }

    /// `a…b` (the range as error messages write it).
    static func text(_ r: ClosedRange<Int>) -> String { "\(r.lowerBound)…\(r.upperBound)" }
}

/// A `UNet2DModel` or `UNet2DConditionModel` config problem.
public typealias UNetConfigError = ModelConfigError<UNetConfigKind>
/// An `AutoencoderKL` config problem.
public typealias AutoencoderKLConfigError = ModelConfigError<VAEConfigKind>
/// A `CLIPTextModel` config problem.
public typealias CLIPTextConfigError = ModelConfigError<TextEncoderConfigKind>
