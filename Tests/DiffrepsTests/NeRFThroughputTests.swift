import Foundation
import Testing
import TensorCore
@testable import Diffreps

/// Measures (prints, does not time-assert) the renderer's forward+backward throughput in the
/// setting of Benchmarks/nerf_render_bench.py: one 32×32 view, 64 jittered samples per ray,
/// a random 32³ grid, gradient of the image sum into both grids.
@Suite(.serialized) struct NeRFThroughputTests {
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    @Test func renderForwardBackwardRaysPerSecond() {
        let field = VoxelGridField(resolution: 32)
        var rng = RandomGenerator(seed: 3)
        field.density.data = rng.normalValues(field.density.count)
        field.color.data = rng.normalValues(field.color.count)
        let renderer = NeRFRenderer(samplesPerRay: 64)
        let view = OrbitView(azimuth: 0.3, elevation: 0.2)
        func step() {
            let out = renderer.render(field, view: view, width: 32, height: 32, using: &rng)
            out.image.sum().backward()
        }
        step()
        #expect(field.density.grad!.allSatisfy { $0.isFinite } && field.color.grad!.allSatisfy { $0.isFinite })
        #expect(field.density.grad!.contains { $0 != 0 } && field.color.grad!.contains { $0 != 0 })
        field.parameters.zeroGrad()
        let reps = 30
        let t0 = Date(), c0 = Self.cpuSeconds()
        for _ in 0..<reps { step(); field.parameters.zeroGrad() }
        let wall = Date().timeIntervalSince(t0) / Double(reps), cpu = (Self.cpuSeconds() - c0) / Double(reps)
        print("NeRF render forward+backward, 32×32 view, 64 samples/ray, 32³ grid, \(Parallel.workers) workers: "
              + "\(String(format: "%.2f", wall * 1000)) ms wall → \(Int(1024 / wall)) rays/s; "
              + "\(String(format: "%.2f", cpu * 1000)) ms CPU → \(Int(1024 / cpu)) rays per CPU-second")
    }
}
