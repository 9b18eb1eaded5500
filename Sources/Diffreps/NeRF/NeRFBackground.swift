import TensorCore

/// The background behind a NeRF: a fixed colour or a learned one.
///
/// ```swift
/// let fixed = NeRFRenderer(background: .white)
/// let bg = Tensor.parameter([3], data: [0, 0, 0])
/// let learned = NeRFRenderer(background: .learned(bg))    // bg.grad after backward()
/// ```
public enum NeRFBackground: Sendable {
    /// A constant colour (one value per channel, in `[-1, 1]`).
    case color([Float])
    /// A trainable `[C]` tensor (add it to your optimiser's parameters).
    case learned(Tensor)

    /// White (+1 in every one of three channels), the toys' background.
    public static let white = NeRFBackground.color([1, 1, 1])

    /// The background as a `[C]` tensor.
    public func tensor(channels: Int) -> Tensor {
        switch self {
        case .color(let c):
            precondition(c.count == channels, "NeRFBackground: \(c.count) values for \(channels) channels")
            return Tensor([channels], data: c)
        case .learned(let t):
            precondition(t.shape == [channels], "NeRFBackground: learned background must be [\(channels)], got \(t.shape)")
            return t
        }
    }
}
