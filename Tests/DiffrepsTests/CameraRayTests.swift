import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// Rays from orbit views, ray–box intersection and stratified samples along rays.
@Suite struct CameraRayTests {
    @Test func raysGoThroughPixelCentresInRowMajorOrder() {
        let view = OrbitView(azimuth: 0.7, elevation: 0.3)
        let rays = Rays(view: view, width: 5, height: 3)
        #expect(rays.count == 15)
        #expect(rays.origins.shape == [15, 3] && rays.directions.shape == [15, 3])
        for row in 0..<3 {
            for col in 0..<5 {
                let k = row * 5 + col
                let expected = view.rayDirection(px: Float(col) + 0.5, py: Float(row) + 0.5, width: 5, height: 3)
                assertClose([rays.direction(k).x, rays.direction(k).y, rays.direction(k).z],
                            [expected.x, expected.y, expected.z], atol: 1e-6, "ray \(k)")
                assertClose([rays.origin(k).x, rays.origin(k).y, rays.origin(k).z],
                            [view.position.x, view.position.y, view.position.z], atol: 1e-6, "origin \(k)")
                let d = rays.direction(k)
                #expect(abs((d * d).sum() - 1) < 1e-6)
            }
        }
        // The centre pixel of an odd image looks at the origin; row 0 looks up, column 0 left.
        let c = rays.direction(7)
        assertClose([c.x, c.y, c.z], [view.forward.x, view.forward.y, view.forward.z], atol: 1e-6, "centre ray")
        #expect((rays.direction(2) * view.up).sum() > 0)
        #expect((rays.direction(10) * view.up).sum() < 0)
        #expect((rays.direction(5) * view.right).sum() < 0)
        #expect((rays.direction(9) * view.right).sum() > 0)
    }

    @Test func stackedViewsAndSubsets() {
        let a = OrbitView(azimuth: 0), b = OrbitView(azimuth: 2, elevation: -0.1)
        let both = Rays(views: [a, b], width: 4, height: 4)
        let second = Rays(view: b, width: 4, height: 4)
        #expect(both.count == 32)
        #expect(Array(both.directions.data[48...]) == second.directions.data)
        let sub = both.subset([17, 3])
        #expect(sub.count == 2)
        #expect(sub.direction(0) == both.direction(17) && sub.origin(1) == both.origin(3))
    }

    @Test func boxIntersection() {
        let box = SceneBox()
        let hit = box.intersect(origin: [0, 0, 4], direction: [0, 0, -1])
        #expect(hit?.near == 2.5 && hit?.far == 5.5)
        #expect(box.intersect(origin: [0, 2, 4], direction: [0, 0, -1]) == nil)          // passes above
        #expect(box.intersect(origin: [0, 0, 4], direction: [0, 0, 1]) == nil)           // points away
        let inside = box.intersect(origin: [0, 0, 0], direction: [1, 0, 0])
        #expect(inside?.near == 0 && inside?.far == 1.5)
        // Random rays against a brute-force walk along the ray.
        var rng = RandomGenerator(seed: 4)
        for _ in 0..<200 {
            let u = rng.uniformValues(6)
            let o = SIMD3<Float>(u[0], u[1], u[2]) * 8 - 4
            var d = SIMD3<Float>(u[3], u[4], u[5]) * 2 - 1
            d /= (d * d).sum().squareRoot()
            let steps = (0..<4000).map { Float($0) * 0.005 }.filter { box.contains(o + $0 * d) }
            if let (near, far) = box.intersect(origin: o, direction: d) {
                #expect(box.contains(o + (0.5 * (near + far)) * d))
                if far - near > 0.02 {
                    #expect(abs(steps.first! - near) < 0.006 && abs(steps.last! - far) < 0.006, "ray \(o) \(d)")
                }
            } else {
                #expect(steps.count <= 2, "missed ray \(o) \(d) passes through the box")
            }
        }
    }

    @Test func midpointSamplesFillTheSegmentInTheBox() {
        let view = OrbitView(azimuth: 0.4, elevation: 0.2)
        let rays = Rays(view: view, width: 6, height: 6)
        let S = 16
        let s = StratifiedSampler(samplesPerRay: S).samples(along: rays)
        #expect(s.points.shape == [36 * S, 3] && s.ts.count == 36 * S && s.deltas.count == 36 * S)
        for r in 0..<36 {
            let (near, far) = SceneBox().intersect(origin: rays.origin(r), direction: rays.direction(r))!
            let width = (far - near) / Float(S)
            let sum = (0..<S).reduce(Float(0)) { $0 + s.deltas[r * S + $1] }
            #expect(abs(sum - (far - near)) < 1e-4)
            for i in 0..<S {
                let k = r * S + i
                #expect(abs(s.ts[k] - (near + (Float(i) + 0.5) * width)) < 1e-4)
                let p = rays.origin(r) + s.ts[k] * rays.direction(r)
                assertClose(Array(s.points.data[3 * k..<3 * k + 3]), [p.x, p.y, p.z], atol: 1e-5)
                #expect(SceneBox().contains(p))
            }
        }
    }

    @Test func jitteredSamplesStayInTheirBinsAndFollowTheSeed() {
        let rays = Rays(view: OrbitView(azimuth: 1), width: 4, height: 4)
        let sampler = StratifiedSampler(samplesPerRay: 8)
        var rng1 = RandomGenerator(seed: 3), rng2 = RandomGenerator(seed: 3)
        let a = sampler.samples(along: rays, using: &rng1), b = sampler.samples(along: rays, using: &rng2)
        let mid = sampler.samples(along: rays)
        #expect(a.ts == b.ts && a.points.data == b.points.data)
        #expect(a.ts != mid.ts)
        #expect(a.deltas == mid.deltas)
        for k in 0..<a.ts.count {
            #expect(abs(a.ts[k] - mid.ts[k]) <= 0.5 * mid.deltas[k] + 1e-5)
        }
    }

    @Test func raysThatMissTheBoxGetZeroDeltas() {
        // A narrow field of view looking past the box: every ray misses.
        let o = Tensor([2, 3], data: [0, 3, 4, 0, 0, 4])
        let d = Tensor([2, 3], data: [0, 0, -1, 0, 0, -1])
        let s = StratifiedSampler(samplesPerRay: 4).samples(along: Rays(origins: o, directions: d))
        #expect(Array(s.deltas[0..<4]) == [0, 0, 0, 0])
        #expect(s.deltas[4...].allSatisfy { abs($0 - 0.75) < 1e-6 })
        #expect(Array(s.points.data[0..<12]).allSatisfy { $0 == 0 })
    }
}
