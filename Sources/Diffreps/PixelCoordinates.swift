import TensorCore

/// Where an image's pixels sit for the coordinate fields (``FourierFieldImage``, ``SirenImage``):
/// pixel centres in `[-1, 1]²`, `u` across, `v` down, whatever the size — so a field sampled at
/// another size shows the same picture.
///
/// ```swift
/// PixelCoordinates.centres(height: 2, width: 2).data   // [-0.5, -0.5,  0.5, -0.5,  -0.5, 0.5,  0.5, 0.5]
/// ```
enum PixelCoordinates {
    /// Pixel-centre coordinates `[H·W, 2]` as `(u, v)` in `[-1, 1]`, row by row.
    static func centres(height: Int, width: Int) -> Tensor {
        var c = [Float](repeating: 0, count: height * width * 2)
        for i in 0..<height {
            for j in 0..<width {
                c[(i * width + j) * 2] = (Float(j) + 0.5) / Float(width) * 2 - 1
                c[(i * width + j) * 2 + 1] = (Float(i) + 0.5) / Float(height) * 2 - 1
            }
        }
        return Tensor([height * width, 2], data: c)
    }
}
