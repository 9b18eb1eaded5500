import TensorCore

// Net2Net "wider" for a UNet2D: every channel space doubled, the function kept.

extension UNet2D {
    /// A copy of this network with every channel space twice as wide (`block_out_channels`
    /// `[32, 64, 64]` → `[64, 128, 128]`, the time embedding 128 → 256) that computes the same
    /// function — exactly with `noise: 0`, up to float rounding — so training continues from
    /// today's quality with four times the weights (Net2Net's "wider" operator).
    ///
    /// ```swift
    /// let base = try UNet2D(contentsOf: URL(fileURLWithPath: "Training/toys-unet-mv/checkpoint/model"))
    /// let wide = try base.widened(by: 2, noise: 1e-3, seed: 4)   // block_out_channels 32,64,64 → 64,128,128
    /// ```
    ///
    /// The maths. Every widened channel space of old width `C` gets `2C` channels, new channel
    /// `j` a copy of old channel `(j / 2b)·b + j % b`: blocks of `b` channels, each block twice.
    /// - Output side (dim 0 of a weight, every bias and norm parameter): `new[j] = old[map(j)]`.
    /// - Input side (dim 1 of a Linear `[out, in]` or Conv `[out, in, kh, kw]`):
    ///   `new[…, i] = old[…, map(i)] / 2`, the two copies of an input together giving the old sum.
    /// - `b = 4` for the hidden spaces. GroupNorm with `G` groups needs `C/G` a multiple of 4:
    ///   each new group then holds exactly one old group's channels, each twice (same mean and
    ///   variance). A concatenation of such spaces (an up-block resnet's `[h, skip]` input) maps
    ///   the same, part by part, so one rule serves every dimension.
    /// - Attention: heads are contiguous `attention_head_dim` (`h`) channels, so q, k, v's output
    ///   side and `to_out.0`'s input side use `b = h`: each new head is a copy of an old head,
    ///   with the same scores and softmax (the scale `1/√h` is unchanged).
    /// - `time_embedding.linear_1`'s input is the sinusoidal features (``timestepFeatures``),
    ///   `[cos f₀…f_{H−1}, sin f₀…f_{H−1}]` with `f_i = t·exp(−ln 10⁴·i/H)`: the `2H`-wide set
    ///   holds the `H`-wide set's frequencies at its even indices, so old column `c` moves to
    ///   `2c` (`c < H`) or `2H + 2(c − H)`, unscaled, and the new frequencies' columns start at zero.
    ///   This needs `freq_shift` 0.
    /// - Not widened: the image channels (`conv_in`'s input, `conv_out`'s output, camera planes
    ///   included) and the class-embedding rows (its columns are the time embedding: copied).
    ///   The config keeps everything but `block_out_channels`.
    ///
    /// Copies receive identical gradients forever, so `noise > 0` then adds
    /// `noise · std(w) · N(0, 1)` (seeded by `seed`) to every weight matrix and kernel `w`
    /// after the copy, `std(w)` of the widened tensor (biases and norm parameters stay exact).
    /// `noise: 0` gives the exact copy.
    ///
    /// Throws ``UNetWidenError`` for a factor other than 2, a negative noise, or a config the
    /// copy cannot keep exact (see its cases).
    public func widened(by factor: Int = 2, noise: Float = 1e-3, seed: UInt64 = 0) throws -> UNet2D {
        let problems = Self.widenProblems(config, factor: factor)
        if let first = problems.first { throw first }
        guard noise.isFinite && noise >= 0 else { throw UNetWidenError.badNoise(noise) }
        let wideConfig = config.widened(by: factor)
        try wideConfig.validate(source: "the widened config")
        let wide = UNet2D(config: wideConfig, seed: 0)
        var rng = RandomGenerator(seed: seed)
        for (name, p) in wide.parameters {
            guard let src = parameters[name] else { throw UNetWidenError.internalMismatch(name, old: [], new: p.shape) }
            let axes = widenedAxes(name, rank: src.rank)
            let (shape, values) = Self.widen(src, axes: axes)
            guard shape == p.shape else { throw UNetWidenError.internalMismatch(name, old: src.shape, new: p.shape) }
            var data = values
            if noise > 0 && src.rank >= 2 {
                let n = Float(data.count)
                let mean = data.reduce(0, +) / n
                let std = (data.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
                let z = rng.normalValues(data.count)
                for i in data.indices { data[i] += noise * std * z[i] }
            }
            p.data = data
        }
        return wide
    }

    /// Every reason `config` cannot be widened exactly by `factor` (empty when it can).
    static func widenProblems(_ c: UNet2DConfig, factor: Int) -> [UNetWidenError] {
        var found: [UNetWidenError] = []
        if factor != 2 { found.append(.unsupportedFactor(factor)) }
        for (i, w) in c.blockOutChannels.enumerated() where w % (WidenMap.block * c.normNumGroups) != 0 {
            found.append(.groupSize(key: "block_out_channels[\(i)]", width: w, groups: c.normNumGroups))
        }
        let last = c.blockOutChannels[c.blockOutChannels.count - 1]
        if c.addAttention, let g = c.attnNormNumGroups, last % (WidenMap.block * g) != 0 {
            found.append(.groupSize(key: "attn_norm_num_groups (mid block, width \(last))", width: last, groups: g))
        }
        let hasAttention = c.addAttention || c.downBlockTypes.contains("AttnDownBlock2D") || c.upBlockTypes.contains("AttnUpBlock2D")
        if hasAttention, c.attentionHeadDim == nil { found.append(.oneHeadAttention) }
        if c.freqShift != 0 { found.append(.freqShift(c.freqShift)) }
        return found
    }

    /// How each dimension of parameter `name` widens.
    func widenedAxes(_ name: String, rank: Int) -> [WidenMap.Axis] {
        let hidden = WidenMap.block, head = config.attentionHeadDim ?? 1
        let kernel = [WidenMap.Axis](repeating: .unchanged, count: Swift.max(0, rank - 2))
        switch name {
        case "conv_in.weight": return [.duplicated(block: hidden), .unchanged] + kernel          // image (+ camera planes) in
        case "conv_out.weight": return [.unchanged, .halved(block: hidden)] + kernel             // image out
        case "conv_out.bias": return [.unchanged]
        case "time_embedding.linear_1.weight": return [.duplicated(block: hidden), .timestepFrequencies]
        case "class_embedding.weight": return [.unchanged, .duplicated(block: hidden)]          // rows: classes × view bins
        default: break
        }
        if name.contains(".attentions.") {
            if name.contains(".to_q.") || name.contains(".to_k.") || name.contains(".to_v.") {
                return rank == 1 ? [.duplicated(block: head)] : [.duplicated(block: head), .halved(block: hidden)]
            }
            if name.contains(".to_out.0.") {
                return rank == 1 ? [.duplicated(block: hidden)] : [.duplicated(block: hidden), .halved(block: head)]
            }
        }
        return rank == 1 ? [.duplicated(block: hidden)] : [.duplicated(block: hidden), .halved(block: hidden)] + kernel
    }

    /// `t` widened along `axes` (one per dimension): the new shape and values.
    static func widen(_ t: Tensor, axes: [WidenMap.Axis]) -> (shape: [Int], values: [Float]) {
        precondition(axes.count == t.rank, "one axis rule per dimension of \(t.shape)")
        let maps = zip(axes, t.shape).map { $0.sources(oldWidth: $1) }     // per dim: (old index, scale)? per new index
        let shape = maps.map(\.count)
        let oldStrides = strides(t.shape)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        var index = [Int](repeating: 0, count: shape.count)
        let src = t.data
        for k in out.indices {
            var at = 0, scale: Float = 1, present = true
            for d in 0..<shape.count {
                guard let (i, s) = maps[d][index[d]] else { present = false; break }
                at += i * oldStrides[d]
                scale *= s
            }
            if present { out[k] = src[at] * scale }
            var d = shape.count - 1                                       // next multi-index, last dim fastest
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return (shape, out)
    }

    private static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        return s
    }
}

extension UNet2DConfig {
    /// This config with every `block_out_channels` entry times `factor` — the architecture
    /// ``UNet2D/widened(by:noise:seed:)`` builds (its memory can be estimated before widening).
    public func widened(by factor: Int) -> UNet2DConfig {
        var c = self
        c.blockOutChannels = blockOutChannels.map { $0 * factor }
        return c
    }
}

/// The index maps of ``UNet2D/widened(by:noise:seed:)``.
enum WidenMap {
    /// Channels per duplicated block in the hidden spaces (GroupNorm group sizes must be multiples of it).
    static let block = 4

    /// How one dimension of a parameter widens.
    enum Axis: Equatable {
        /// Not widened (image channels, class rows, kernel taps).
        case unchanged
        /// Output side: `new[j] = old[(j / 2b)·b + j % b]`.
        case duplicated(block: Int)
        /// Input side: the same map, halved, so a channel's two copies sum to the old contribution.
        case halved(block: Int)
        /// `time_embedding.linear_1`'s input: old sinusoid columns at the even new columns of each half.
        case timestepFrequencies

        /// For each new index, the old index and factor it copies (`nil`: a new column, zero).
        func sources(oldWidth w: Int) -> [(Int, Float)?] {
            switch self {
            case .unchanged: return (0..<w).map { ($0, 1) }
            case let .duplicated(b): return (0..<(2 * w)).map { j in ((j / (2 * b)) * b + j % b, 1) }
            case let .halved(b): return (0..<(2 * w)).map { j in ((j / (2 * b)) * b + j % b, 0.5) }
            case .timestepFrequencies:
                let half = w / 2                                         // old frequencies; the new set has w
                return (0..<(2 * w)).map { j in
                    let (part, i) = (j / w, j % w)                      // part 0: first half (cos), 1: second (sin)
                    return i % 2 == 0 ? (part * half + i / 2, 1) : nil
                }
            }
        }
    }
}

/// A UNet2D that ``UNet2D/widened(by:noise:seed:)`` cannot widen exactly.
public enum UNetWidenError: Error, Equatable, CustomStringConvertible {
    case unsupportedFactor(Int)
    case groupSize(key: String, width: Int, groups: Int)
    case oneHeadAttention
    case freqShift(Int)
    case badNoise(Float)
    case internalMismatch(String, old: [Int], new: [Int])

    public var description: String {
        switch self {
        case let .unsupportedFactor(f):
            return "widening by \(f) is not supported: only 2 (every channel space doubled)"
        case let .groupSize(key, w, g):
            return "\(key) = \(w) with \(g) GroupNorm groups: a group of \(w / Swift.max(g, 1)) channels; widening keeps GroupNorm exact only when every group size is a multiple of \(WidenMap.block) (HINT: widths that are multiples of \(WidenMap.block * g))"
        case .oneHeadAttention:
            return "attention_head_dim is null (one head spanning all channels): the widened attention would have one head twice as wide, which changes its function; widening needs a fixed attention_head_dim"
        case let .freqShift(s):
            return "freq_shift = \(s): the timestep frequencies of the wider time embedding do not contain the old ones; widening needs freq_shift 0"
        case let .badNoise(n):
            return "widening noise must be a finite number ≥ 0, got \(n)"
        case let .internalMismatch(name, old, new):
            return "widening '\(name)' \(old) does not give the widened config's shape \(new) (a bug in the widening rules)"
        }
    }
}
