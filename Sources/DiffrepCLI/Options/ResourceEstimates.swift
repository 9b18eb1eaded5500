import Diffusion
import RunSupport

/// Rough peak-memory figures of the parts a run allocates, in 32-bit floats (as `Double`, so the
/// products of large option values never overflow). They err on the generous side: their job is
/// to refuse runs that would need terabytes before they start, not to budget to the megabyte.
enum ResourceFigures {
    /// Activations a ``UNet2D`` keeps for `batch` images: per level about (14 · layers + 8)
    /// feature maps of its channels and size (ResNets down and up, skips), plus the attention
    /// maps of attention levels (heads × tokens² per attention layer); twice that when training
    /// (the gradients).
    static func unetActivations(_ config: UNet2DConfig, batch: Double, training: Bool) -> Double {
        var perImage = 0.0
        let layers = Double(config.layersPerBlock)
        for (level, channels) in config.blockOutChannels.enumerated() {
            let side = Double(config.sampleSize) / Double(1 << level)
            let c = Double(channels), tokens = side * side
            perImage += (14 * layers + 8) * c * tokens
            if config.downBlockTypes.indices.contains(level), config.downBlockTypes[level].hasPrefix("Attn") {
                let heads = config.attentionHeadDim.map { Swift.max(1, c / Double($0)) } ?? 1
                perImage += 2 * heads * tokens * tokens * (2 * layers + 1)
            }
        }
        return perImage * batch * (training ? 2 : 1)
    }

    /// About the parameter count of a UNet with this config (3×3 convolutions of the ResNets
    /// down and up, the up path's wider inputs included).
    static func unetParameters(_ config: UNet2DConfig) -> Double {
        let layers = Double(config.layersPerBlock)
        return config.blockOutChannels.reduce(0) { sum, c in
            sum + 9 * Double(c) * Double(c) * (2 * layers + 3 * (layers + 1))
        }
    }
}
