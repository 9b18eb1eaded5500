import Foundation

/// Exact signed distance functions of the toy primitives in their local frame
/// (negative inside, zero on the surface, Euclidean distance outside).
///
/// Every shape is centred on its local origin and symmetric about the local y axis; the
/// formulas are the standard exact ones (Quilez, "distance functions"). The union of
/// several primitives is the `min` of their distances.
///
/// ```swift
/// ToySDF.sphere(ToyVec(2, 0, 0), radius: 1)   // 1
/// ```
enum ToySDF {
    /// Sphere of `radius` about the origin.
    @inline(__always) static func sphere(_ p: ToyVec, radius r: Float) -> Float { p.length - r }

    /// Axis-aligned box with half extents `h`.
    @inline(__always) static func box(_ p: ToyVec, halfExtents h: ToyVec) -> Float {
        let qx = abs(p.x) - h.x, qy = abs(p.y) - h.y, qz = abs(p.z) - h.z
        let ox = max(qx, 0), oy = max(qy, 0), oz = max(qz, 0)
        return (ox * ox + oy * oy + oz * oz).squareRoot() + min(max(qx, max(qy, qz)), 0)
    }

    /// Solid cylinder of `radius` along y, from `-halfHeight` to `halfHeight`.
    @inline(__always) static func cylinder(_ p: ToyVec, radius r: Float, halfHeight h: Float) -> Float {
        let dx = (p.x * p.x + p.z * p.z).squareRoot() - r, dy = abs(p.y) - h
        let ox = max(dx, 0), oy = max(dy, 0)
        return min(max(dx, dy), 0) + (ox * ox + oy * oy).squareRoot()
    }

    /// Solid cone along y: a disc of `radius` at `y = -halfHeight`, apex at `y = +halfHeight`.
    @inline(__always) static func cone(_ p: ToyVec, radius r: Float, halfHeight h: Float) -> Float {
        // Capped cone with r1 = r (bottom) and r2 = 0 (top) in the (ρ, y) half-plane.
        let qx = (p.x * p.x + p.z * p.z).squareRoot(), qy = p.y
        let k2x = -r, k2y = 2 * h                                  // apex − base rim
        let cax = qx - min(qx, qy < 0 ? r : 0), cay = abs(qy) - h  // to the caps
        let tnum = (0 - qx) * k2x + (h - qy) * k2y                 // dot(k1 − q, k2), k1 = (0, h)
        let t = min(max(tnum / (k2x * k2x + k2y * k2y), 0), 1)
        let cbx = qx - 0 + k2x * t, cby = qy - h + k2y * t         // to the slanted side
        let s: Float = (cbx < 0 && cay < 0) ? -1 : 1
        return s * min(cax * cax + cay * cay, cbx * cbx + cby * cby).squareRoot()
    }

    /// Torus in the xz plane: ring of `majorRadius`, tube of `minorRadius`.
    @inline(__always) static func torus(_ p: ToyVec, majorRadius R: Float, minorRadius r: Float) -> Float {
        let qx = (p.x * p.x + p.z * p.z).squareRoot() - R
        return (qx * qx + p.y * p.y).squareRoot() - r
    }

    /// Capsule: the segment from `(0, -halfLength, 0)` to `(0, halfLength, 0)` thickened by `radius`.
    @inline(__always) static func capsule(_ p: ToyVec, radius r: Float, halfLength h: Float) -> Float {
        let y = p.y - min(max(p.y, -h), h)
        return (p.x * p.x + y * y + p.z * p.z).squareRoot() - r
    }
}
