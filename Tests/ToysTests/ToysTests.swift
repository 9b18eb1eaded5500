import Foundation
import Testing
import TensorCore
import Diffreps
@testable import Toys

// MARK: - Helpers

/// Fraction of pixels of a `[3, H, W]` image in `[-1, 1]` that are not background white.
private func objectFraction(_ image: Tensor) -> Float {
    let plane = image.shape[1] * image.shape[2]
    var n = 0
    for o in 0..<plane where (0..<3).contains(where: { image.data[$0 * plane + o] < 0.98 }) { n += 1 }
    return Float(n) / Float(plane)
}

private let ball = ToyPrimitive(shape: .sphere, parameters: SIMD3(0.8, 0, 0), color: SIMD3(0.9, 0.3, 0.2))

// MARK: - Signed distance functions

@Test func sdfAtKnownPoints() {
    func sdf(_ s: ToyShape, _ a: SIMD3<Float>, _ p: SIMD3<Float>) -> Float { s.signedDistance(p, parameters: a) }
    let close = { (a: Float, b: Float) in abs(a - b) < 1e-5 }
    // sphere of radius 0.5
    #expect(close(sdf(.sphere, SIMD3(0.5, 0, 0), SIMD3(1, 0, 0)), 0.5))
    #expect(close(sdf(.sphere, SIMD3(0.5, 0, 0), SIMD3(0, 0.5, 0)), 0))
    #expect(close(sdf(.sphere, SIMD3(0.5, 0, 0), .zero), -0.5))
    // box with half extents (1, 2, 3): faces, inside, an edge and a corner outside
    let h = SIMD3<Float>(1, 2, 3)
    #expect(close(sdf(.box, h, SIMD3(1, 0.3, -0.2)), 0))
    #expect(close(sdf(.box, h, SIMD3(0, 0, -3)), 0))
    #expect(close(sdf(.box, h, SIMD3(1.5, 0, 0)), 0.5))
    #expect(close(sdf(.box, h, .zero), -1))
    #expect(close(sdf(.box, h, SIMD3(0, 1.8, 0)), -0.2))
    #expect(close(sdf(.box, h, SIMD3(2, 3, 0)), Float(2).squareRoot()))
    #expect(close(sdf(.box, h, SIMD3(2, 4, 5)), 3))
    // cylinder radius 0.5, half height 1
    let cyl = SIMD3<Float>(0.5, 1, 0)
    #expect(close(sdf(.cylinder, cyl, SIMD3(0, 0, 0.5)), 0))
    #expect(close(sdf(.cylinder, cyl, SIMD3(0, 1.25, 0)), 0.25))
    #expect(close(sdf(.cylinder, cyl, SIMD3(0.6, 0, 0.8)), 0.5))
    #expect(close(sdf(.cylinder, cyl, SIMD3(0, 0.1, 0)), -0.5))
    #expect(close(sdf(.cylinder, cyl, SIMD3(1.5, 2, 0)), Float(2).squareRoot()))
    // cone: base radius 1 at y = −1, apex at y = +1 (slant length √5)
    let cone = SIMD3<Float>(1, 1, 0)
    #expect(close(sdf(.cone, cone, SIMD3(0, 1, 0)), 0))                 // apex
    #expect(close(sdf(.cone, cone, SIMD3(0, -1, 0)), 0))                // base centre
    #expect(close(sdf(.cone, cone, SIMD3(0, -1.5, 0.3)), 0.5))          // below the base
    #expect(close(sdf(.cone, cone, SIMD3(0, 2, 0)), 1))                 // above the apex
    #expect(close(sdf(.cone, cone, SIMD3(0.5, 0, 0)), 0))               // on the slant (mid height)
    let outward = SIMD3<Float>(2, 1, 0) / Float(5).squareRoot()               // slant normal in (ρ, y)
    #expect(close(sdf(.cone, cone, SIMD3(0.5, 0, 0) + 0.1 * outward), 0.1))
    #expect(sdf(.cone, cone, SIMD3(0, -0.5, 0)) < 0)
    // torus: ring 1, tube 0.25
    let tor = SIMD3<Float>(1, 0.25, 0)
    #expect(close(sdf(.torus, tor, SIMD3(1, 0, 0)), -0.25))
    #expect(close(sdf(.torus, tor, SIMD3(0, 0, -1.25)), 0))
    #expect(close(sdf(.torus, tor, .zero), 0.75))
    #expect(close(sdf(.torus, tor, SIMD3(0, 0.5, 1)), 0.25))
    // capsule: radius 0.3, half length 0.5
    let cap = SIMD3<Float>(0.3, 0.5, 0)
    #expect(close(sdf(.capsule, cap, SIMD3(0, 0.8, 0)), 0))
    #expect(close(sdf(.capsule, cap, SIMD3(0.3, -0.5, 0)), 0))
    #expect(close(sdf(.capsule, cap, SIMD3(0, 0, 1)), 0.7))
    #expect(close(sdf(.capsule, cap, .zero), -0.3))
}

@Test func boundingRadiusHoldsTheShape() {
    // Points on the bounding sphere are never inside, and some surface point reaches it.
    var rng = RandomGenerator(seed: 3)
    for shape in ToyShape.allCases {
        let a = ToyScene.parameters(for: shape, boundingRadius: 1, 0.3, 0.6, 0.9)
        #expect(abs(shape.boundingRadius(a) - 1) < 1e-5, "\(shape)")
        let dirs = rng.normalValues(3 * 2000)
        var closest = Float.infinity
        for k in 0..<2000 {
            var d = SIMD3(dirs[3 * k], dirs[3 * k + 1], dirs[3 * k + 2])
            d /= (d * d).sum().squareRoot()
            let s = shape.signedDistance(d, parameters: a)
            #expect(s >= -1e-5, "\(shape) pokes out of its bounding sphere at \(d)")
            closest = min(closest, s)
        }
        #expect(closest < 0.1, "\(shape): bounding radius is loose (\(closest))")
    }
}

@Test func posedPrimitiveDistance() {
    // A box (half extents 0.2, 0.5, 0.1) turned 90° about z and moved to (1, 2, 3): its local
    // y axis points along world −x, so the local +y face is at world x = 1 − 0.5.
    let r = ToyRotation(axis: SIMD3(0, 0, 1), angle: .pi / 2)
    let box = ToyPrimitive(shape: .box, parameters: SIMD3(0.2, 0.5, 0.1), center: SIMD3(1, 2, 3),
                           rotation: r, color: SIMD3(1, 0, 0))
    #expect(abs(box.signedDistance(SIMD3(0.5, 2, 3))) < 1e-5)
    #expect(abs(box.signedDistance(SIMD3(0.2, 2, 3)) - 0.3) < 1e-5)
    #expect(abs(box.signedDistance(SIMD3(1, 2.2, 3))) < 1e-5)          // local x face → world y
    #expect(abs(box.signedDistance(SIMD3(1, 2, 3)) + 0.1) < 1e-5)
    // The scene SDF is the min over primitives.
    let scene = ToyScene(primitives: [box, ball])
    #expect(abs(scene.signedDistance(SIMD3(0, 0, 1)) - 0.2) < 1e-5)
    #expect(abs(scene.signedDistance(SIMD3(0.5, 2, 3))) < 1e-5)
}

@Test func rotationsAreOrthonormal() {
    let q = ToyRotation(axis: SIMD3(0, 1, 0), angle: .pi / 2).apply(SIMD3(1, 0, 0))
    #expect(abs(q.x) < 1e-6 && abs(q.y) < 1e-6 && abs(q.z + 1) < 1e-6)
    var rng = RandomGenerator(seed: 5)
    for _ in 0..<20 {
        let u = rng.uniformValues(3)
        let r = ToyRotation(uniform: u[0], u[1], u[2])
        let (a, b, c) = r.columns
        for (x, y, expected) in [(a, a, 1), (b, b, 1), (c, c, 1), (a, b, 0), (a, c, 0), (b, c, 0)] as [(SIMD3<Float>, SIMD3<Float>, Float)] {
            #expect(abs((x * y).sum() - expected) < 1e-5)
        }
        let cross = SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
        #expect(abs(((cross - c) * (cross - c)).sum()) < 1e-8, "right-handed")
        let v = SIMD3<Float>(0.3, -1, 2)
        let back = r.inverseApply(r.apply(v))
        #expect(((back - v) * (back - v)).sum() < 1e-10)
    }
}

// MARK: - Camera conventions

@Test func orbitViewConventions() {
    func near(_ a: SIMD3<Float>, _ b: SIMD3<Float>, _ tol: Float = 1e-5) -> Bool { ((a - b) * (a - b)).sum() < tol * tol }
    let front = OrbitView()
    #expect(front.radius == 4 && abs(front.fovY - 40 * .pi / 180) < 1e-7)
    #expect(near(front.position, SIMD3(0, 0, 4)))
    #expect(near(front.forward, SIMD3(0, 0, -1)) && near(front.right, SIMD3(1, 0, 0)) && near(front.up, SIMD3(0, 1, 0)))
    #expect(near(OrbitView(azimuth: .pi / 2).position, SIMD3(4, 0, 0)))
    #expect(near(OrbitView(azimuth: .pi / 2).right, SIMD3(0, 0, -1)))
    #expect(near(OrbitView(azimuth: 0, elevation: .pi / 6, radius: 2).position, SIMD3(0, 1, Float(3).squareRoot())))
    for (az, el) in [(Float(0.3), Float(0.7)), (2.5, -0.15), (5.9, 0.4)] {
        let v = OrbitView(azimuth: az, elevation: el)
        let (f, r, u) = (v.forward, v.right, v.up)
        #expect(abs((f * r).sum()) < 1e-6 && abs((f * u).sum()) < 1e-6 && abs((r * u).sum()) < 1e-6)
        let rxu = SIMD3(r.y * u.z - r.z * u.y, r.z * u.x - r.x * u.z, r.x * u.y - r.y * u.x)
        #expect(near(rxu, -f), "right × up = backward (right-handed camera)")
        #expect(abs(r.y) < 1e-7 && u.y > 0, "horizon level, y up")
        #expect(near(v.rayDirection(px: 16, py: 16, width: 32, height: 32), f))
        // The top edge's centre is fovY/2 above the axis; the right edge's centre is the
        // horizontal half-angle (aspect-scaled) to the right.
        let top = v.rayDirection(px: 16, py: 0, width: 32, height: 32)
        let topAngle = Foundation.acos((top * f).sum())
        #expect(abs(topAngle - v.fovY / 2) < 1e-4 && (top * u).sum() > 0)
        let side = v.rayDirection(px: 64, py: 12, width: 64, height: 24)
        let tanX = Foundation.tan(v.fovY / 2) * 64 / 24
        let sideTan = (side * r).sum() / (side * f).sum()
        #expect(abs(sideTan - tanX) < 1e-4)
    }
}

@Test func imageOrientation() {
    // Column/row of the coverage centroid of a small sphere placed at `at`, seen from `view`.
    func centroid(_ at: SIMD3<Float>, _ view: OrbitView) -> (col: Float, row: Float) {
        let p = ToyPrimitive(shape: .sphere, parameters: SIMD3(0.2, 0, 0), center: at, color: SIMD3(1, 0, 0))
        let cov = ToyRenderer().renderWithCoverage(ToyScene(primitives: [p]), view: view, width: 32, height: 32).coverage
        var s: Float = 0, sc: Float = 0, sr: Float = 0
        for i in 0..<32 { for j in 0..<32 { let c = cov.data[i * 32 + j]; s += c; sc += c * (Float(j) + 0.5); sr += c * (Float(i) + 0.5) } }
        return (sc / s, sr / s)
    }
    let front = OrbitView()
    #expect(centroid(SIMD3(0.8, 0, 0), front).col > 24)          // +x is right
    #expect(centroid(SIMD3(0, 0.8, 0), front).row < 8)           // +y is up (row 0 at the top)
    let mid = centroid(.zero, front)
    #expect(abs(mid.col - 16) < 0.01 && abs(mid.row - 16) < 0.01)
    let side = OrbitView(azimuth: .pi / 2)                       // camera on +x: −z is right
    #expect(centroid(SIMD3(0, 0, -0.8), side).col > 24)
    // The exact projection: x = 0.8 maps to column 16 + 16·(0.8/4)/tan(20°).
    let expected = 16 + 16 * (0.8 / 4) / Foundation.tan(Float(20) * .pi / 180)
    #expect(abs(centroid(SIMD3(0.8, 0, 0), front).col - expected) < 0.3)
}

// MARK: - Rendering

@Test func sphereAtCentreIsRotationallySymmetric() {
    // Overhead light only: the image of a centred sphere is the same from every azimuth.
    let overhead = ToyLighting(ambient: 0.3, lights: [ToyLight(direction: SIMD3(0, 1, 0), intensity: 0.7)])
    let scene = ToyScene(primitives: [ball], lighting: overhead)
    let renderer = ToyRenderer()
    let base = renderer.renderWithCoverage(scene, view: OrbitView(azimuth: 0, elevation: 0.2), width: 32, height: 32)
    for az in [Float(1.3), 2.9, 4.4] {
        let img = scene.render(view: OrbitView(azimuth: az, elevation: 0.2), size: 32)
        let worst = zip(img.data, base.image.data).map { abs($0 - $1) }.max()!
        #expect(worst < 0.03, "azimuth \(az): max difference \(worst)")
    }
    // The silhouette is a disc of the projected radius, left–right symmetric.
    let rPixels = 16 * Foundation.tan(Foundation.asin(Float(0.8) / 4)) / Foundation.tan(Float(20) * .pi / 180)
    let area = base.coverage.data.reduce(0, +)
    #expect(abs(area / (Float.pi * rPixels * rPixels) - 1) < 0.03, "coverage \(area)")
    for i in 0..<32 { for j in 0..<16 { #expect(abs(base.coverage.data[i * 32 + j] - base.coverage.data[i * 32 + 31 - j]) < 0.12) } }
    // Lit from above: the upper half is brighter than the lower half.
    let red = base.image.data[0..<1024]
    let upper = red[0..<512].filter { $0 < 0.98 }, lower = red[512..<1024].filter { $0 < 0.98 }
    let upperMean: Float = upper.reduce(0, +) / Float(upper.count)
    let lowerMean: Float = lower.reduce(0, +) / Float(lower.count)
    #expect(upperMean > lowerMean + 0.2)
}

@Test func backgroundIsExactlyWhiteWhereNothingIsHit() {
    let ds = ToyDataset(seed: 11)
    for i in 0..<10 {
        let (scene, view) = ds.scene(i)
        let out = ds.renderer.renderWithCoverage(scene, view: view, width: 32, height: 32)
        #expect(out.image.data.allSatisfy { $0 >= -1 && $0 <= 1 })
        for o in 0..<1024 where out.coverage.data[o] == 0 {
            #expect(out.image.data[o] == 1 && out.image.data[1024 + o] == 1 && out.image.data[2048 + o] == 1)
        }
        #expect(out.image.data == ds.sample(i).image.data)
    }
}

@Test func anyImageSize() {
    let scene = ToyScene(primitives: [ball])
    #expect(ToyRenderer(supersampling: 2).render(scene, view: OrbitView(), width: 40, height: 24).shape == [3, 24, 40])
    #expect(ToyDataset(seed: 1, size: 16).sample(3).image.shape == [3, 16, 16])
    let big = scene.render(view: OrbitView(azimuth: 1, elevation: 0.3), size: 64)
    #expect(big.shape == [3, 64, 64])
    #expect(abs(objectFraction(big) - objectFraction(scene.render(view: OrbitView(), size: 32))) < 0.02)
}

// MARK: - Data set

@Test func samplesAreDeterministic() {
    let a = ToyDataset(seed: 42), b = ToyDataset(seed: 42)
    let s7 = a.sample(7)
    #expect(s7.image.shape == [3, 32, 32])
    #expect(s7.image.data == a.sample(7).image.data && s7.label == a.sample(7).label)
    #expect(s7.image.data == b.sample(7).image.data)
    #expect(s7.image.data != a.sample(8).image.data)
    #expect(s7.image.data != ToyDataset(seed: 43).sample(7).image.data)
    // A batch is bit-identical to the samples, in order, whatever the thread split.
    let indices = [5, 7, 0, 123_456, 7]
    let batch = a.batch(indices)
    #expect(batch.images.shape == [5, 3, 32, 32])
    for (b, i) in indices.enumerated() {
        let s = a.sample(i)
        #expect(Array(batch.images.data[(b * 3072)..<((b + 1) * 3072)]) == s.image.data)
        #expect(batch.labels[b] == s.label)
    }
}

@Test func imagesAreObjectsOnWhite() {
    let ds = ToyDataset(seed: 9)
    let (images, _) = ds.batch(Array(0..<50))
    var fractions: [Float] = []
    for b in 0..<50 {
        let img = Tensor([3, 32, 32], data: Array(images.data[(b * 3072)..<((b + 1) * 3072)]))
        fractions.append(objectFraction(img))
        // The whole scene is in view: the outermost ring of pixels is pure background.
        for k in 0..<32 {
            for o in [k, 31 * 32 + k, k * 32, k * 32 + 31] {
                #expect(img.data[o] == 1 && img.data[1024 + o] == 1 && img.data[2048 + o] == 1, "image \(b) border")
            }
        }
        // Not a grey smear: the object has saturated colour (some pixel far from grey).
        let chroma = (0..<1024).map { o in
            let c = [img.data[o], img.data[1024 + o], img.data[2048 + o]]
            return c.max()! - c.min()!
        }.max()!
        #expect(chroma > 0.5, "image \(b) has no saturated pixel")
    }
    #expect(fractions.allSatisfy { $0 > 0.05 && $0 < 0.6 }, "object fractions \(fractions)")
    let mean = fractions.reduce(0, +) / 50
    #expect(mean > 0.12 && mean < 0.38, "mean object fraction \(mean)")
}

@Test func everyClassOccurs() {
    let labels = ToyDataset(seed: 2, size: 8, supersampling: 1).batch(Array(0..<300)).labels
    for shape in ToyShape.allCases {
        let n = labels.filter { $0 == shape.rawValue }.count
        #expect(n >= 25, "\(shape.name) occurs \(n) times in 300")
    }
}

@Test func labelIsTheLargestPrimitive() {
    let ds = ToyDataset(seed: 4, size: 8, supersampling: 1)
    var counts = [0, 0, 0, 0]
    for i in 0..<200 {
        let scene = ds.scene(i).scene
        counts[scene.primitives.count] += 1
        let largest = scene.primitives.max { $0.boundingRadius < $1.boundingRadius }!
        #expect(scene.label == largest.shape.rawValue)
        #expect(ds.sample(i).label == scene.label)
        // The main primitive clearly dominates, and every primitive fits in view.
        #expect(scene.primitives.dropFirst().allSatisfy { $0.boundingRadius < scene.primitives[0].boundingRadius })
        for p in scene.primitives {
            #expect((p.center * p.center).sum().squareRoot() + p.boundingRadius <= ToyScene.fitRadius + 1e-4)
            let hi = p.color.max(), lo = p.color.min()
            #expect(hi >= 0.64 && hi <= 0.96 && (hi - lo) / hi >= 0.64, "saturated colour \(p.color)")
        }
    }
    #expect(counts[1] > 40 && counts[2] > 40 && counts[3] > 40, "primitive counts \(counts)")
    // A hand-made scene: a big torus beside a small sphere is a torus.
    let torus = ToyPrimitive(shape: .torus, parameters: SIMD3(0.6, 0.2, 0), color: SIMD3(0, 0, 1))
    let small = ToyPrimitive(shape: .sphere, parameters: SIMD3(0.5, 0, 0), center: SIMD3(0.5, 0, 0), color: SIMD3(1, 0, 0))
    #expect(ToyScene(primitives: [small, torus]).label == ToyShape.torus.rawValue)
}

@Test func viewsCoverTheOrbit() {
    let ds = ToyDataset(seed: 8)
    let views = (0..<400).map { ds.scene($0).view }
    let range = OrbitView.defaultElevationRange
    let twoPi = 2 * Float.pi
    let inRange = views.allSatisfy { v in v.azimuth >= 0 && v.azimuth < twoPi && range.contains(v.elevation) && v.radius == 4 }
    #expect(inRange)
    for q in 0..<4 {     // every quadrant of azimuth and both ends of the elevation range occur
        let quadrant = views.contains { v in Int(v.azimuth / (Float.pi / 2)) == q }
        #expect(quadrant)
    }
    let low = views.contains { $0.elevation < 0 }, high = views.contains { $0.elevation > 0.6 }
    #expect(low && high)
}
