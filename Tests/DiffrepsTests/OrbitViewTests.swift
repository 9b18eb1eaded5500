import Foundation
import Testing
import TensorCore
import Diffreps
import TestSupport

/// The one camera convention (``OrbitView``): y up, azimuth 0 on +z and π/2 on +x, positive
/// elevation looks down, a right-handed camera frame, pixel rays spanning the field of view,
/// turntables and random views as documented.
@Suite struct OrbitViewTests {
    static func cross(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> SIMD3<Float> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }
    static func dot(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float { (a * b).sum() }
    static func close(_ a: SIMD3<Float>, _ b: SIMD3<Float>, _ what: String) {
        assertClose([a.x, a.y, a.z], [b.x, b.y, b.z], rtol: 0, atol: 1e-5, what)
    }

    @Test func positionsFollowAzimuthAndElevation() {
        Self.close(OrbitView().position, [0, 0, 4], "azimuth 0 on +z")
        Self.close(OrbitView(azimuth: .pi / 2).position, [4, 0, 0], "azimuth π/2 on +x")
        Self.close(OrbitView(azimuth: .pi).position, [0, 0, -4], "azimuth π on −z")
        Self.close(OrbitView(azimuth: 0, elevation: .pi / 6, radius: 2).position, [0, 1, 2 * Float(3).squareRoot() / 2], "30° up, radius 2")
        #expect(OrbitView(azimuth: 0.1).position.x > 0, "a small azimuth moves the camera from +z toward +x")
    }

    @Test(arguments: [(Float(0), Float(0)), (0.7, 0.3), (2.5, -0.15), (-1.2, 1.2)])
    func theCameraFrameIsRightHandedAndLooksAtTheOrigin(azimuth: Float, elevation: Float) {
        let v = OrbitView(azimuth: azimuth, elevation: elevation)
        for (name, axis) in [("forward", v.forward), ("right", v.right), ("up", v.up)] {
            #expect(abs(Self.dot(axis, axis) - 1) < 1e-5, "\(name) is a unit vector")
        }
        #expect(abs(Self.dot(v.forward, v.right)) < 1e-5 && abs(Self.dot(v.forward, v.up)) < 1e-5 && abs(Self.dot(v.right, v.up)) < 1e-5)
        Self.close(v.forward, -v.position / v.radius, "forward looks at the origin")
        Self.close(Self.cross(v.right, v.up), -v.forward, "right × up = −forward")
        #expect(v.right.y == 0, "right is horizontal")
        #expect(v.up.y > 0, "up points up")
        if elevation > 0 { #expect(v.forward.y < 0, "positive elevation looks down") }
    }

    @Test func pixelRaysSpanTheFieldOfView() {
        let v = OrbitView(azimuth: 0.4, elevation: 0.2)
        let (w, h) = (48, 32)
        Self.close(v.rayDirection(px: Float(w) / 2, py: Float(h) / 2, width: w, height: h), v.forward, "the image centre")
        let top = v.rayDirection(px: Float(w) / 2, py: 0, width: w, height: h)
        #expect(abs(acos(Self.dot(top, v.forward)) - v.fovY / 2) < 1e-4, "the top edge is fovY/2 above the axis")
        #expect(Self.dot(top, v.up) > 0)
        let left = v.rayDirection(px: 0, py: Float(h) / 2, width: w, height: h)
        let horizontal = atan(tan(v.fovY / 2) * Float(w) / Float(h))
        #expect(abs(acos(Self.dot(left, v.forward)) - horizontal) < 1e-4, "the left edge: the aspect ratio widens the view")
        #expect(Self.dot(left, v.right) < 0)
    }

    @Test func turntablesAndRandomViews() {
        let t = OrbitView.turntable(frames: 8)
        #expect(t.count == 8 && t.allSatisfy { $0.elevation == OrbitView.turntableElevation && $0.radius == 4 && $0.fovY == OrbitView.defaultFovY })
        for (k, v) in t.enumerated() { #expect(abs(v.azimuth - Float(k) * .pi / 4) < 1e-6) }
        #expect(abs(OrbitView.defaultFovY - 40 * .pi / 180) < 1e-7 && OrbitView.defaultRadius == 4)

        var rng = RandomGenerator(seed: 6)
        for _ in 0..<200 {
            var copy = rng
            let v = OrbitView.random(using: &rng)
            #expect(v.azimuth >= 0 && v.azimuth < 2 * .pi)
            #expect(OrbitView.defaultElevationRange.contains(v.elevation))
            _ = copy.uniformValues(2)
            #expect(copy.uniformValues(1) == rng.uniformValues(1), "one draw of two uniforms")
            rng = copy
        }
    }
}
