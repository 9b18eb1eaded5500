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
            p.data = name == "conv_in.weight" ? Self.inputChannelsResized(src, to: p.shape) : src.data
        }
    }
}

extension UNet2D {
    /// A copy of the class-conditional `base` that is told the camera through its class label
    /// (``CameraBins``): every class-embedding row is repeated for each view bin and for "no
    /// camera", so it computes exactly what `base` computes with no camera, whatever the view,
    /// until training teaches the rows apart. If `base` reads ``CameraPlanes``, those input
    /// channels are dropped (the copy equals `base` told "no camera").
    ///
    /// ```swift
    /// let base = try UNet2D(contentsOf: URL(fileURLWithPath: "Assets/toys-unet"))
    /// let aware = UNet2D(cameraBinsFrom: base, bins: CameraBins())   // 7 → 7 × 49 class rows
    /// ```
    public convenience init(cameraBinsFrom base: UNet2D, bins: CameraBins) {
        precondition(base.config.cameraBins == nil, "the UNet already has camera bins")
        precondition(bins.problem == nil, bins.problem ?? "")
        guard let classes = base.config.numClassEmbeds else { preconditionFailure("camera bins need a class-conditional UNet") }
        var config = base.config
        config.inChannels = base.readsCamera ? base.config.outChannels : base.config.inChannels
        config.numClassEmbeds = classes * (bins.count + 1)
        config.cameraBins = bins
        self.init(config: config, seed: 0)
        var old: [String: Tensor] = [:]
        for (name, p) in base.parameters { old[name] = p }
        for (name, p) in parameters {
            let src = old[name]!
            switch name {
            case "class_embedding.weight":                    // [classes · (K + 1), T] from [classes, T]
                let t = src.shape[1], perClass = bins.count + 1
                var w = [Float](); w.reserveCapacity(p.count)
                for row in 0..<p.shape[0] {
                    let c = row / perClass
                    w.append(contentsOf: src.data[(c * t)..<((c + 1) * t)])
                }
                p.data = w
            case "conv_in.weight":                             // keep the image channels
                p.data = Self.inputChannelsResized(src, to: p.shape)
            default:
                p.data = src.data
            }
        }
    }
}

extension UNet2D {
    /// A `conv_in` weight `[out, in, kh, kw]` with its input channels cut or zero-padded to
    /// `shape[1]`: the first `min(in, shape[1])` channels are copied, any new ones are zero.
    static func inputChannelsResized(_ weight: Tensor, to shape: [Int]) -> [Float] {
        let (o, iOld, iNew, k) = (weight.shape[0], weight.shape[1], shape[1], weight.shape[2] * weight.shape[3])
        precondition(shape[0] == o && shape[2] * shape[3] == k, "conv_in shapes \(weight.shape) and \(shape) differ beyond the input channels")
        var w = [Float](repeating: 0, count: o * iNew * k)
        for a in 0..<o {
            for c in 0..<Swift.min(iOld, iNew) {
                for j in 0..<k { w[(a * iNew + c) * k + j] = weight.data[(a * iOld + c) * k + j] }
            }
        }
        return w
    }
}

extension UNet2D {
    /// A copy of `base` whose config says it samples `sampleSize`×`sampleSize` images (the
    /// weights are the same: a UNet does not fix its input size). Used to fine-tune a model on
    /// larger images; `viewTiles: true` makes it a multi-view model of ``QuarterTurnTiles``
    /// (``UNet2DConfig/viewTiles``: the same weights, each tile run as its own view).
    ///
    /// ```swift
    /// let tiled = UNet2D(copying: base, sampleSize: 64)     // base.config.sampleSize 32
    /// ```
    public convenience init(copying base: UNet2D, sampleSize: Int, viewTiles: Bool? = nil) {
        var config = base.config
        config.sampleSize = sampleSize
        if let viewTiles { config.viewTiles = viewTiles }
        self.init(config: config, seed: 0)
        var old: [String: Tensor] = [:]
        for (name, p) in base.parameters { old[name] = p }
        for (name, p) in parameters { p.data = old[name]!.data }
    }
}
