import TensorCore

extension UNet2D {
    /// A camera-aware copy of `base`: the same architecture with ``CameraPlanes/count`` more
    /// input channels, every weight copied, and the new `conv_in` weights zero — so it computes
    /// exactly what `base` computes, whatever the camera, until training teaches it to read one.
    ///
    /// ```swift
    /// let base = try UNet2D(contentsOf: URL(fileURLWithPath: "Assets/toys-unet"))
    /// let aware = UNet2D(cameraAwareFrom: base)      // in_channels 3 → 6
    /// ```
    public convenience init(cameraAwareFrom base: UNet2D) {
        precondition(!base.readsCamera, "the UNet already reads a camera")
        var config = base.config
        config.inChannels = base.config.inChannels + CameraPlanes.count
        self.init(config: config, seed: 0)
        var old: [String: Tensor] = [:]
        for (name, p) in base.parameters { old[name] = p }
        for (name, p) in parameters {
            let src = old[name]!
            if name == "conv_in.weight" {
                // [out, in, 3, 3]: copy the image channels, zero the camera channels.
                let (o, iNew, iOld, k) = (p.shape[0], p.shape[1], src.shape[1], p.shape[2] * p.shape[3])
                var w = [Float](repeating: 0, count: p.count)
                for a in 0..<o { for c in 0..<iOld { for j in 0..<k { w[(a * iNew + c) * k + j] = src.data[(a * iOld + c) * k + j] } } }
                p.data = w
            } else {
                p.data = src.data
            }
        }
    }
}
