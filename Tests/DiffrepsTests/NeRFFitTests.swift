import Foundation
import Testing
import TensorCore
@testable import Diffreps

/// A voxel-grid NeRF fitted to views of an analytic scene must reproduce held-out views.
@Suite struct NeRFFitTests {
    /// The analytic scene: a soft-edged sphere of radius 0.8 whose colour varies with position.
    static func sceneDensity(_ p: SIMD3<Float>) -> Float {
        let r = (p * p).sum().squareRoot()
        return 40 / (1 + Foundation.exp((r - 0.8) / 0.02))
    }
    static func sceneColor(_ p: SIMD3<Float>) -> SIMD3<Float> {
        SIMD3(0.9 * Foundation.tanh(2 * p.x), 0.9 * Foundation.tanh(2 * p.y), 0.9 * Foundation.tanh(2 * p.z))
    }

    /// Ground truth `[3, H, W]` by ray marching the analytic scene with a plain loop
    /// (512 midpoint steps through the box, white background), independent of the renderer.
    static func groundTruth(_ view: OrbitView, size: Int) -> [Float] {
        let box = SceneBox()
        var img = [Float](repeating: 1, count: 3 * size * size)
        let steps = 512
        for row in 0..<size {
            for col in 0..<size {
                let d = view.rayDirection(px: Float(col) + 0.5, py: Float(row) + 0.5, width: size, height: size)
                guard let (near, far) = box.intersect(origin: view.position, direction: d) else { continue }
                let dt = (far - near) / Float(steps)
                var trans: Float = 1, c = SIMD3<Float>(0, 0, 0)
                for i in 0..<steps {
                    let p = view.position + (near + (Float(i) + 0.5) * dt) * d
                    let a = 1 - Foundation.exp(-sceneDensity(p) * dt)
                    c += trans * a * sceneColor(p)
                    trans *= 1 - a
                }
                c += trans * SIMD3(1, 1, 1)
                for ch in 0..<3 { img[(ch * size + row) * size + col] = c[ch] }
            }
        }
        return img
    }

    /// PSNR in dB for images in [-1, 1] (peak-to-peak 2).
    static func psnr(_ a: [Float], _ b: [Float]) -> Double {
        var se = 0.0
        for i in 0..<a.count { let d = Double(a[i] - b[i]); se += d * d }
        return 10 * Foundation.log10(4 / (se / Double(a.count)))
    }

    /// `size` random rays (sorted indices) and their target colours `[size, 3]` from per-ray
    /// targets laid out `[rays, 3]`.
    static func randomBatch(_ rays: Rays, targets: [Float], size: Int, using rng: inout RandomGenerator) -> (Rays, Tensor) {
        var pick = rng.uniformValues(size).map { min(Int($0 * Float(rays.count)), rays.count - 1) }
        pick.sort()
        var t = [Float](repeating: 0, count: size * 3)
        for (k, i) in pick.enumerated() { for c in 0..<3 { t[k * 3 + c] = targets[i * 3 + c] } }
        return (rays.subset(pick), Tensor([size, 3], data: t))
    }

    /// Writes raw float32 images for a look when `DIFFREPS_NERF_DUMP` names a folder.
    static func dump(_ name: String, _ data: [Float]) {
        guard let dir = ProcessInfo.processInfo.environment["DIFFREPS_NERF_DUMP"] else { return }
        let bytes = data.withUnsafeBufferPointer { Data(buffer: $0) }
        try? bytes.write(to: URL(fileURLWithPath: dir).appendingPathComponent(name + ".f32"))
    }

    @Test func gridFitsSphereAndGeneralises() {
        let size = 32
        let train = (0..<8).map { k in OrbitView(azimuth: Float(k) * .pi / 4, elevation: k % 2 == 0 ? 0.1 : 0.5) }
        let heldOut = (0..<4).map { k in OrbitView(azimuth: (Float(k) + 0.25) * .pi / 2, elevation: 0.3) }
        let trainImages = train.map { Self.groundTruth($0, size: size) }
        let heldOutImages = heldOut.map { Self.groundTruth($0, size: size) }

        // Targets per ray, in the order of Rays(views:): view, row, column; channels last.
        let rays = Rays(views: train, width: size, height: size)
        let pixels = size * size
        var target = [Float](repeating: 0, count: rays.count * 3)
        for (v, img) in trainImages.enumerated() {
            for p in 0..<pixels { for c in 0..<3 { target[(v * pixels + p) * 3 + c] = img[c * pixels + p] } }
        }

        // Adam on both grids, random batches of 1024 rays with jittered samples, and a squared-TV
        // prior (8 views of 32² pixels underdetermine a 32³ grid: without it floaters and holes
        // appear in new views).
        let field = VoxelGridField(resolution: 32)
        let renderer = NeRFRenderer(samplesPerRay: 64)
        var opt = Adam(parameters: field.parameters, learningRate: 0.1)
        var rng = RandomGenerator(seed: 1)
        let batch = 1024, steps = 300
        let start = Date()
        var loss = Tensor(0)
        for _ in 0..<steps {
            let (batchRays, batchTargets) = Self.randomBatch(rays, targets: target, size: batch, using: &rng)
            let out = renderer.render(field, rays: batchRays, using: &rng)
            loss = (out.color - batchTargets).square().mean()
            let prior = 3e-3 * field.density.squaredTotalVariation3D() + 1e-2 * field.color.squaredTotalVariation3D()
            (loss + prior).backward()
            opt.step()
        }
        let seconds = Date().timeIntervalSince(start)
        var scores: [Double] = []
        for (k, view) in heldOut.enumerated() {
            let img = GradMode.withoutGrad { renderer.render(field, view: view, width: size, height: size).image }
            scores.append(Self.psnr(img.data, heldOutImages[k]))
            Self.dump("heldout\(k)", img.data)
            Self.dump("heldout\(k)_gt", heldOutImages[k])
        }
        print("NeRF fit: \(steps) steps in \(String(format: "%.2f", seconds)) s, final batch MSE \(loss.item), "
              + "held-out PSNR \(scores.map { String(format: "%.2f", $0) }) dB")
        #expect(scores.min()! > 28, "held-out PSNR \(scores)")
    }
}
