import Foundation
import Testing
import TensorCore
@testable import Diffreps

@Suite struct NeRFThroughputTests {
    @Test func profile() {
        let field = VoxelGridField(resolution: 32)
        var rng = RandomGenerator(seed: 3)
        field.density.data = rng.normalValues(field.density.count)
        field.color.data = rng.normalValues(field.color.count)
        let renderer = NeRFRenderer(samplesPerRay: 64)
        let view = OrbitView(azimuth: 0.3, elevation: 0.2)
        let reps = 20
        func cpu() -> Double { var ts = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        Parallel.workers = 1
        func time(_ name: String, _ body: () -> Void) {
            body()
            let t0 = Date(), c0 = cpu()
            for _ in 0..<reps { body() }
            let dt = Date().timeIntervalSince(t0) / Double(reps), dc = (cpu() - c0) / Double(reps)
            print("\(name): wall \(String(format: "%.3f", dt * 1000)) ms  cpu \(String(format: "%.3f", dc * 1000)) ms (\(Int(1024 / dc)) rays/cpu-s)")
        }
        let rays = Rays(view: view, width: 32, height: 32)
        let samples = renderer.sampler(field).samples(along: rays, using: &rng)
        time("rays+samples") { var r = rng; _ = renderer.sampler(field).samples(along: Rays(view: view, width: 32, height: 32), using: &r) }
        time("interp plan") { _ = TrilinearInterpolation(points: samples.points, box: field.box, depth: 32, height: 32, width: 32) }
        let interp = TrilinearInterpolation(points: samples.points, box: field.box, depth: 32, height: 32, width: 32)
        time("gather color") { _ = GradMode.withoutGrad { interp.sample(field.color) } }
        let g = [Float](repeating: 1, count: samples.points.shape[0] * 3)
        time("scatter color") { _ = interp.scatter(g, channels: 3) }
        time("field fwd") { _ = GradMode.withoutGrad { field(samples.points) } }
        time("render fwd") { _ = GradMode.withoutGrad { renderer.render(field, samples: samples) } }
        time("render fwd+bwd") {
            let out = renderer.render(field, samples: samples)
            out.color.sum().backward()
            field.parameters.zeroGrad()
        }
        time("full view fwd+bwd") {
            var r = rng
            let out = renderer.render(field, view: view, width: 32, height: 32, using: &r)
            out.image.sum().backward()
            field.parameters.zeroGrad()
        }
    }
}
