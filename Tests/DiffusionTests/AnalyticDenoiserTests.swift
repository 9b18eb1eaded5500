import Foundation
import Testing
import TensorCore
import Diffusion
import TestSupport

@Suite struct AnalyticDenoiserTests {
    /// LAPACK's eigendecomposition: `V Λ Vᵀ = A`, `VᵀV = I`, eigenvalues ascending, on indefinite
    /// matrices of several sizes, one with a repeated eigenvalue, and the empty one.
    @Test func symmetricEigendecomposition() {
        var repeated = [Double](repeating: 0, count: 25)          // diag(2, 2, 2, −1, 5) turned by a rotation
        let c = 0.6, s = 0.8
        for (i, l) in [2.0, 2, 2, -1, 5].enumerated() { repeated[i * 5 + i] = l }
        for k in 0..<5 {                                          // rotate in the (0, 4) plane: R A Rᵀ
            let (a0, a4) = (repeated[0 * 5 + k], repeated[4 * 5 + k])
            repeated[0 * 5 + k] = c * a0 - s * a4; repeated[4 * 5 + k] = s * a0 + c * a4
        }
        for k in 0..<5 {
            let (a0, a4) = (repeated[k * 5 + 0], repeated[k * 5 + 4])
            repeated[k * 5 + 0] = c * a0 - s * a4; repeated[k * 5 + 4] = s * a0 + c * a4
        }
        var cases: [(n: Int, a: [Double])] = [1, 2, 7, 40].map { n in
            let a = randomCovariance(d: n, seed: UInt64(n)).enumerated().map { $0.element - ($0.offset % 3 == 0 ? 0.7 : 0) }
            return (n, (0..<n * n).map { 0.5 * (a[$0] + a[($0 % n) * n + $0 / n]) })
        }
        cases.append((5, repeated))
        for (n, sym) in cases {
            let (values, v) = SymmetricEigen.decompose(sym, n: n)
            #expect(values.count == n && v.count == n * n)
            #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "ascending")
            var recon = [Double](repeating: 0, count: n * n), gram = recon
            for i in 0..<n { for j in 0..<n { for k in 0..<n {
                recon[i * n + j] += v[i * n + k] * values[k] * v[j * n + k]
                gram[i * n + j] += v[k * n + i] * v[k * n + j]
            } } }
            for i in 0..<n * n {
                #expect(abs(recon[i] - sym[i]) < 1e-10, "n = \(n): V Λ Vᵀ ≠ A at \(i)")
                #expect(abs(gram[i] - (i / n == i % n ? 1 : 0)) < 1e-10, "n = \(n): VᵀV ≠ I at \(i)")
            }
        }
        let (values, vectors) = SymmetricEigen.decompose([2, 1, 1, 2], n: 2)
        #expect(abs(values[0] - 1) < 1e-12 && abs(values[1] - 3) < 1e-12)
        #expect(abs(abs(vectors[0]) - 0.5.squareRoot()) < 1e-12 && abs(vectors[0] + vectors[2]) < 1e-12,
                "the eigenvector of 1 is ±(1, −1)/√2 (column 0)")
        let fiveValues = SymmetricEigen.decompose(repeated, n: 5).values
        for (x, y) in zip(fiveValues, [-1.0, 2, 2, 2, 5]) { #expect(abs(x - y) < 1e-12) }
        #expect(SymmetricEigen.decompose([], n: 0).values.isEmpty)
    }

    /// Full, low-rank + diagonal, diagonal and isotropic forms all equal the dense formula.
    @Test func gaussianFormsMatchTheDenseFormula() {
        let d = 6, r = 2
        var rng = RandomGenerator(seed: 21)
        let mean = rng.normal([d])
        let u = rng.normal([d, r])
        let delta = rng.uniform([d], in: 0.1...0.6)
        var cov = matmul(u.data.map(Double.init), u.transposed().data.map(Double.init), n: d, k: r, m: d)
        for i in 0..<d { cov[i * d + i] += Double(delta.data[i]) }
        let full = GaussianDenoiser(mean: mean, covariance: Tensor([d, d], data: cov.map(Float.init)))
        let lowRank = GaussianDenoiser(mean: mean, lowRankFactor: u, diagonal: delta)
        var diagCov = [Double](repeating: 0, count: d * d)
        for i in 0..<d { diagCov[i * d + i] = Double(delta.data[i]) }
        let diagonal = GaussianDenoiser(mean: mean, diagonalVariance: delta)
        var isoCov = [Double](repeating: 0, count: d * d)
        for i in 0..<d { isoCov[i * d + i] = 0.8 }
        let iso = GaussianDenoiser(mean: mean, variance: 0.8)
        for sigma: Float in [0.01, 0.3, 2, 50] {
            let x = rng.normal([3, d]) * (sigma + 1)
            func reference(_ c: [Double]) -> [Float] {
                (0..<3).flatMap { i in
                    gaussianPosteriorMean(x: x.data[i * d..<(i + 1) * d].map(Double.init), mean: mean.data.map(Double.init),
                                          covariance: c, sigma: Double(sigma)).map(Float.init)
                }
            }
            let ref = reference(cov)
            assertClose(full.denoise(x, sigma: sigma, condition: nil).data, ref, rtol: 1e-4, atol: 1e-5, "full, σ = \(sigma)")
            assertClose(lowRank.denoise(x, sigma: sigma, condition: nil).data, ref, rtol: 1e-4, atol: 1e-5, "low rank, σ = \(sigma)")
            assertClose(diagonal.denoise(x, sigma: sigma, condition: nil).data, reference(diagCov), rtol: 1e-4, atol: 1e-5, "diagonal")
            assertClose(iso.denoise(x, sigma: sigma, condition: nil).data, reference(isoCov), rtol: 1e-4, atol: 1e-5, "isotropic")
        }
    }

    /// A rank-one covariance: as σ → 0 the posterior mean is the projection onto the data line.
    @Test func degenerateGaussianProjectsOntoItsSupport() {
        let u: [Float] = [1, 2, -1]
        let cov = Tensor([3, 3], data: (0..<9).map { u[$0 / 3] * u[$0 % 3] })
        let mean = Tensor([3], data: [0.5, 0, 1])
        let x = Tensor([1, 3], data: [2, -1, 3])
        let r = zip(x.data, mean.data).map { $0 - $1 }
        let t = zip(r, u).map { $0 * $1 }.reduce(0, +) / 6
        let projection = (0..<3).map { mean.data[$0] + t * u[$0] }
        for g in [GaussianDenoiser(mean: mean, covariance: cov),
                  GaussianDenoiser(mean: mean, lowRankFactor: Tensor([3, 1], data: u), diagonal: Tensor.zeros([3]))] {
            assertClose(g.denoise(x, sigma: 1e-3, condition: nil).data, projection, rtol: 1e-4, atol: 1e-4)
        }
    }

    /// Mixture posterior means against a direct evaluation of the responsibilities.
    @Test func mixtureMatchesDirectFormula() {
        let k = 3, d = 2
        let weights: [Float] = [0.2, 0.3, 0.5]
        let means = Tensor([k, d], data: [-2, 0, 2, 0.5, 0, 2])
        let variances = Tensor([k, d], data: [0.3, 0.1, 0.5, 0.5, 0.05, 0.8])
        let gmm = GaussianMixtureDenoiser(weights: weights, means: means, diagonalVariances: variances)
        let isoGMM = GaussianMixtureDenoiser(weights: weights.map { $0 * 10 }, means: means, variances: [0.3, 0.5, 0.05])
        #expect(abs(isoGMM.weights.reduce(0, +) - 1) < 1e-6, "weights are normalised")
        var rng = RandomGenerator(seed: 8)
        for sigma: Float in [0.05, 0.5, 3] {
            let x = rng.normal([4, d]) * 2
            for (model, v) in [(gmm, variances.data), (isoGMM, [0.3, 0.3, 0.5, 0.5, 0.05, 0.05] as [Float])] {
                var want = [Float]()
                for i in 0..<4 {
                    let xi = x.data[i * d..<(i + 1) * d].map(Double.init)
                    var lik = [Double](), post = [[Double]]()
                    for c in 0..<k {
                        var p = Double(weights[c])
                        var m = [Double]()
                        for j in 0..<d {
                            let s = Double(v[c * d + j]) + Double(sigma * sigma)
                            let diff = xi[j] - Double(means.data[c * d + j])
                            p *= Foundation.exp(-0.5 * diff * diff / s) / (2 * Double.pi * s).squareRoot()
                            m.append(Double(means.data[c * d + j]) + Double(v[c * d + j]) / s * diff)
                        }
                        lik.append(p); post.append(m)
                    }
                    let z = lik.reduce(0, +)
                    for j in 0..<d { want.append(Float((0..<k).reduce(0.0) { $0 + lik[$1] / z * post[$1][j] })) }
                }
                assertClose(model.denoise(x, sigma: sigma, condition: nil).data, want, rtol: 1e-4, atol: 1e-5, "σ = \(sigma)")
            }
        }
    }

    /// Far from every mode and at tiny σ, responsibilities in log space stay finite and pick the
    /// component that explains x best; an empirical set equals a zero-variance equal-weight mixture.
    @Test func stableFarFromModesAndEmpiricalIsAPointMixture() {
        let means = Tensor([2, 2], data: [0, 0, 1, 1])
        let gmm = GaussianMixtureDenoiser(weights: [0.5, 0.5], means: means, variances: [0.01, 0.01])
        let far = gmm.denoise(Tensor([1, 2], data: [900, 1000]), sigma: 1e-3, condition: nil)
        #expect(far.data.allSatisfy { $0.isFinite })
        assertClose(far.data, [1 + 0.01 / (0.01 + 1e-6) * 899, 1 + 0.01 / (0.01 + 1e-6) * 999], rtol: 1e-4, atol: 1e-3)

        var rng = RandomGenerator(seed: 4)
        let images = rng.uniform([5, 1, 2, 3], in: -1...1)                  // [N, C, H, W]
        let empirical = EmpiricalDenoiser(images: images)
        let points = GaussianMixtureDenoiser(weights: [Float](repeating: 1, count: 5), means: images,
                                             variances: [Float](repeating: 0, count: 5))
        for sigma: Float in [0.05, 0.4, 2, 100] {
            let x = rng.normal([3, 1, 2, 3])
            assertClose(empirical.denoise(x, sigma: sigma, condition: nil), points.denoise(x, sigma: sigma, condition: nil),
                        rtol: 1e-4, atol: 1e-5, "σ = \(sigma)")
        }
        // σ → 0: the nearest image exactly; σ → ∞: the mean image
        let x = images.data[6..<12].map { $0 + 0.01 }
        let near = empirical.denoise(Tensor([1, 1, 2, 3], data: Array(x)), sigma: 1e-4, condition: nil)
        #expect(near.data == Array(images.data[6..<12]))
        let wide = empirical.denoise(Tensor([1, 1, 2, 3], data: Array(x)), sigma: 1e4, condition: nil)
        let meanImage = (0..<6).map { j in (0..<5).reduce(Float(0)) { $0 + images.data[$1 * 6 + j] } / 5 }
        assertClose(wide.data, meanImage, rtol: 1e-4, atol: 1e-5)
    }
}
