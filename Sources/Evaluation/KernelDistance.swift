import TensorCore

/// Kernel Inception Distance (Bińkowski et al. 2018) in any feature space: the unbiased
/// estimate of the squared maximum mean discrepancy with the cubic polynomial kernel
/// `k(x, y) = (xᵀy/d + 1)³`, averaged over random subsets of both sets, as KID is usually
/// computed. Near zero (either sign) for two samples of one distribution, positive when they
/// differ; unlike FID it is unbiased for small sets.
///
/// ```swift
/// let kid = KernelDistance.kid(samples, reference, subsets: 100, subsetSize: 100, seed: 0)
/// print(kid.mean, kid.standardError)
/// ```
public enum KernelDistance {
    /// A KID estimate.
    public struct Estimate: Sendable, Equatable {
        /// Mean of the subset estimates.
        public let mean: Double
        /// Standard deviation of the subset estimates (the ± KID is reported with).
        public let standardError: Double
        /// Subsets averaged.
        public let subsets: Int
        /// Items per subset from each set.
        public let subsetSize: Int
    }

    /// KID between `x` and `y` (feature vectors of equal width; at least 2 each). Each of
    /// `subsets` draws `min(subsetSize, |x|, |y|)` items from each set without replacement
    /// (seeded, so the figure is reproducible).
    public static func kid(_ x: [[Float]], _ y: [[Float]], subsets: Int = 100, subsetSize: Int = 100,
                           seed: UInt64 = 0) -> Estimate {
        precondition(x.count >= 2 && y.count >= 2, "KID needs at least two feature vectors per set")
        let d = x[0].count
        precondition(d > 0 && (x + y).allSatisfy { $0.count == d }, "feature vectors must all have one width")
        let m = Swift.min(subsetSize, x.count, y.count)
        var values: [Double] = []
        var rng = RandomGenerator(seed: seed)
        for _ in 0..<subsets {
            let xi = sampleWithoutReplacement(x.count, m, using: &rng)
            let yi = sampleWithoutReplacement(y.count, m, using: &rng)
            values.append(mmd2(xi.map { x[$0] }, yi.map { y[$0] }))
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(Swift.max(values.count - 1, 1))
        return Estimate(mean: mean, standardError: variance.squareRoot(), subsets: subsets, subsetSize: m)
    }

    /// The unbiased MMD² of two equal-size sets with the cubic polynomial kernel.
    static func mmd2(_ x: [[Float]], _ y: [[Float]]) -> Double {
        let m = Double(x.count), n = Double(y.count)
        let d = Double(x[0].count)
        func k(_ a: [Float], _ b: [Float]) -> Double {
            var dot = 0.0
            for i in 0..<a.count { dot += Double(a[i]) * Double(b[i]) }
            let t = dot / d + 1
            return t * t * t
        }
        var kxx = 0.0, kyy = 0.0, kxy = 0.0
        for i in 0..<x.count { for j in 0..<x.count where j != i { kxx += k(x[i], x[j]) } }
        for i in 0..<y.count { for j in 0..<y.count where j != i { kyy += k(y[i], y[j]) } }
        for i in 0..<x.count { for j in 0..<y.count { kxy += k(x[i], y[j]) } }
        return kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - 2 * kxy / (m * n)
    }

    /// `k` distinct indices of `0..<n` (a partial Fisher–Yates shuffle).
    static func sampleWithoutReplacement(_ n: Int, _ k: Int, using rng: inout RandomGenerator) -> [Int] {
        var p = Array(0..<n)
        let u = rng.uniformValues(k)
        for i in 0..<k {
            let j = i + Swift.min(Int(u[i] * Float(n - i)), n - i - 1)
            p.swapAt(i, j)
        }
        return Array(p[0..<k])
    }
}

/// Diversity in a feature space: how far apart the items of a set are.
///
/// ```swift
/// let spread = FeatureDiversity.meanPairwiseDistance(features)      // one row per seed
/// ```
public enum FeatureDiversity {
    /// Mean Euclidean distance over all pairs of rows (0 for fewer than two rows).
    public static func meanPairwiseDistance(_ rows: [[Float]]) -> Double {
        guard rows.count > 1 else { return 0 }
        var total = 0.0, pairs = 0
        for i in 0..<rows.count {
            for j in (i + 1)..<rows.count {
                var s = 0.0
                for (a, b) in zip(rows[i], rows[j]) { s += Double(a - b) * Double(a - b) }
                total += s.squareRoot()
                pairs += 1
            }
        }
        return total / Double(pairs)
    }

    /// The mean over positions of the pairwise distance across sets: `sets[s][v]` is the
    /// feature of item `v` (a turntable frame) of set `s` (a seed); rows of equal position are
    /// compared, so two turntables differ by what they show from the same view.
    public static func meanPairwiseDistance(aligned sets: [[[Float]]]) -> Double {
        guard sets.count > 1, let count = sets.map(\.count).min(), count > 0 else { return 0 }
        let perPosition = (0..<count).map { v in meanPairwiseDistance(sets.map { $0[v] }) }
        return perPosition.reduce(0, +) / Double(count)
    }

    /// Mean RMS distance (in the images' own units) over all pairs of equally shaped tensors:
    /// pixel-space diversity, what `diffrep image` reports.
    public static func meanPairwiseRMS(_ xs: [Tensor]) -> Double {
        meanPairwiseDistance(xs.map(\.data)) / Double(xs.first?.count ?? 1).squareRoot()
    }
}
