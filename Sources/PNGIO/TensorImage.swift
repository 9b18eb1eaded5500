// Conversions between data-space tensors [C, H, W] in [-1, 1] and 8-bit images.

import TensorCore

extension PNGImage {
    /// An 8-bit image from a tensor `[C, H, W]` (C = 1...4) in `[-1, 1]`.
    ///
    /// Each value is clamped to `[-1, 1]` and rounded: `v8 = round((x + 1) / 2 · 255)`;
    /// NaN becomes 0.
    ///
    /// ```swift
    /// let x = Tensor([3, 1, 2], data: [-1, 1, 0, 0, 2, -5])   // [C, H, W]
    /// let image = try PNGImage(tensor: x)                     // pixels [0, 0, 255, 128, 255, 0]
    /// ```
    /// - Throws: ``PNGError/invalidImage(message:)`` unless the shape is `[1...4, H, W]`.
    public init(tensor: Tensor) throws {
        guard tensor.rank == 3, (1...4).contains(tensor.shape[0]) else {
            throw PNGError.invalidImage(
                message: "expected a tensor [C, H, W] with C in 1...4, got shape \(tensor.shape)")
        }
        let (c, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
        var pixels = [UInt8](repeating: 0, count: c * h * w)
        tensor.data.withUnsafeBufferPointer { src in            // [C, H, W]
            pixels.withUnsafeMutableBufferPointer { dst in       // [H, W, C]
                for ch in 0..<c {
                    for i in 0..<(h &* w) { dst[i &* c &+ ch] = PNGImage.byte(src[ch &* h &* w &+ i]) }
                }
            }
        }
        self.init(width: w, height: h, channels: c, pixels: pixels)
    }

    /// The image as a tensor `[C, H, W]` in `[-1, 1]`: `x = v8 / 255 · 2 − 1`.
    ///
    /// ```swift
    /// let x = try PNG.read("in.png").tensor()   // [C, H, W]
    /// ```
    public func tensor() -> Tensor {
        let (c, plane) = (channels, width * height)
        var data = [Float](repeating: 0, count: c * plane)
        pixels.withUnsafeBufferPointer { src in                  // [H, W, C]
            data.withUnsafeMutableBufferPointer { dst in         // [C, H, W]
                for ch in 0..<c {
                    for i in 0..<plane { dst[ch &* plane &+ i] = PNGImage.value(src[i &* c &+ ch]) }
                }
            }
        }
        return Tensor([c, height, width], data: data)
    }

    /// `x ∈ [-1, 1]` to a byte: clamped, `round((x + 1) / 2 · 255)`; NaN to 0.
    ///
    /// ```swift
    /// PNGImage.byte(0)     // 128
    /// ```
    public static func byte(_ x: Float) -> UInt8 {
        guard x > -1 else { return 0 }          // also catches NaN
        guard x < 1 else { return 255 }
        return UInt8(((x + 1) / 2 * 255).rounded())
    }

    /// A byte to `[-1, 1]`: `v / 255 · 2 − 1` (``byte(_:)`` inverts it exactly).
    ///
    /// ```swift
    /// PNGImage.value(255)  // 1
    /// ```
    public static func value(_ v: UInt8) -> Float { Float(v) / 255 * 2 - 1 }
}

extension PNG {
    /// Writes a tensor `[C, H, W]` in `[-1, 1]` (C = 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) as an
    /// 8-bit PNG, atomically like writing a ``PNGImage``.
    ///
    /// ```swift
    /// try PNG.write(Tensor.zeros([3, 32, 32]), to: "grey.png")   // mid-grey RGB
    /// ```
    public static func write(_ tensor: Tensor, to path: String) throws {
        try write(PNGImage(tensor: tensor), to: path)
    }

    /// Reads a PNG as a tensor `[C, H, W]` in `[-1, 1]`; `channels` converts as in ``read(_:channels:)``.
    ///
    /// ```swift
    /// let x = try PNG.readTensor("cat.png", channels: 3)   // [3, H, W]
    /// ```
    public static func readTensor(_ path: String, channels: Int? = nil) throws -> Tensor {
        try read(path, channels: channels).tensor()
    }
}
