import Foundation
import Diffreps
import TensorCore

/// How much a turntable behaves like a real 3D object turning — the measures that see what a
/// person sees at once when a NeRF "looks the same from every side".
///
/// - **Silhouette change**: `1 − IoU` of the object masks (opacity > ½) of frames `f` and
///   `f + F/4` (a quarter turn), averaged over `f`. About 0 for a surface of revolution about
///   the vertical axis (a ball, a spinning top); 0.2–0.55 for real toys.
/// - **View-consistent change** (0–1 colour units): for each object pixel `p` of frame `f`, the
///   surface point `X` it sees (the pixel's ray at the frame's hit distance) is projected into
///   frame `g = f + F/8` (an eighth of a turn, so the two views share most of what they see).
///   Where `g` sees that same point (its hit distance there agrees within
///   ``visibilityTolerance``), it compares how well the *unmoved* pixel predicts `g`,
///   `e_same = |I_f(p) − I_g(p)|`, with how well the *reprojected* one does,
///   `e_reproj = |I_f(p) − I_g(proj_g(X))|` (mean over RGB; object colours with the white
///   background taken out of soft edges, ``objectColours(_:)``). The figure is the mean of
///   `e_same − e_reproj`: how much of the change between the two views the 3D geometry explains.
///   A surface of revolution (nothing changes, `e_same ≈ e_reproj ≈ 0`) scores ≈ 0 however
///   consistent it is; real toys score clearly above 0 (the object turns, and its own geometry
///   predicts how); frames that do not belong to one object (shuffled) score far lower.
///
/// ```swift
/// let t = Turntable(scene: scene, views: OrbitView.turntable(frames: 24), size: 32)
/// TurntableConsistency.silhouetteChange(t)
/// TurntableConsistency.viewConsistentChange(t).value
/// ```
public enum TurntableConsistency {
    /// Opacity above which a pixel is object.
    public static let objectThreshold: Float = 0.5
    /// How far (world units; the toys fit in radius 1.25) a reprojected point's distance may
    /// differ from the target frame's hit distance and still count as the same surface.
    public static let visibilityTolerance: Float = 0.2

    /// The frame offset of a quarter turn (at least 1).
    static func quarter(_ t: Turntable) -> Int { Swift.max(1, (t.frames.count + 2) / 4) }
    /// The frame offset of an eighth of a turn (at least 1): views 45° apart share most of what
    /// they see, so the reprojection compares many well-sampled pixels.
    static func eighth(_ t: Turntable) -> Int { Swift.max(1, (t.frames.count + 4) / 8) }

    /// Mean `1 − IoU` of the object masks of frames `f` and `f + F/4` (0 when both are empty).
    public static func silhouetteChange(_ t: Turntable) -> Double {
        let q = quarter(t), n = t.frames.count
        guard n > 1 else { return 0 }
        var total = 0.0
        for f in 0..<n {
            let a = t.frames[f].opacity.data, b = t.frames[(f + q) % n].opacity.data
            var inter = 0, union = 0
            for i in 0..<a.count {
                let ia = a[i] > objectThreshold, ib = b[i] > objectThreshold
                if ia && ib { inter += 1 }
                if ia || ib { union += 1 }
            }
            total += union == 0 ? 0 : 1 - Double(inter) / Double(union)
        }
        return total / Double(n)
    }

    /// The view-consistent change and its parts.
    public struct ViewChange: Sendable, Equatable {
        /// Mean `e_same − e_reproj` over the compared pixels (the figure).
        public let value: Double
        /// Mean `e_same`: how much the image changes under the quarter turn.
        public let unmovedError: Double
        /// Mean `e_reproj`: what the geometry leaves unexplained.
        public let reprojectedError: Double
        /// Pixels compared (object pixels seen in both frames), over all frame pairs.
        public let pixels: Int
    }

    /// The view-consistent change of a turntable (see the type's documentation).
    public static func viewConsistentChange(_ t: Turntable) -> ViewChange {
        let q = eighth(t), n = t.frames.count
        var same = 0.0, reproj = 0.0, count = 0
        guard n > 1 else { return ViewChange(value: 0, unmovedError: 0, reprojectedError: 0, pixels: 0) }
        for f in 0..<n {
            let (s, r, c) = compare(t.frames[f], t.frames[(f + q) % n])
            same += s
            reproj += r
            count += c
        }
        guard count > 0 else { return ViewChange(value: 0, unmovedError: 0, reprojectedError: 0, pixels: 0) }
        let d = Double(count)
        return ViewChange(value: (same - reproj) / d, unmovedError: same / d, reprojectedError: reproj / d, pixels: count)
    }

    /// Sums of `e_same` and `e_reproj` over the object pixels of `a` that `b` also sees, and their count.
    static func compare(_ a: RenderedView, _ b: RenderedView) -> (Double, Double, Int) {
        let (h, w) = (a.opacity.shape[0], a.opacity.shape[1])
        precondition(b.opacity.shape == [h, w], "frames of one turntable must share a size")
        let plane = h * w
        let ia = objectColours(a), ib = objectColours(b)
        let oa = a.opacity.data, ob = b.opacity.data, db = b.distance.data, da = a.distance.data
        let cam = b.view
        let tanY = Foundation.tan(cam.fovY / 2), tanX = tanY * Float(w) / Float(h)
        var same = 0.0, reproj = 0.0, count = 0
        for i in 0..<h {
            for j in 0..<w {
                let p = i * w + j
                guard oa[p] > objectThreshold, da[p] > 0 else { continue }
                let dir = a.view.rayDirection(px: Float(j) + 0.5, py: Float(i) + 0.5, width: w, height: h)
                let x = a.view.position + da[p] * dir
                // Project into b: camera coordinates, then pixel coordinates.
                let v = x - cam.position
                let z = (v * cam.forward).sum()
                guard z > 1e-3 else { continue }
                let u = (v * cam.right).sum() / (z * tanX), vv = (v * cam.up).sum() / (z * tanY)
                let px = (u + 1) * Float(w) / 2, py = (1 - vv) * Float(h) / 2
                let qj = Int(px.rounded(.down)), qi = Int(py.rounded(.down))
                guard qi >= 0, qi < h, qj >= 0, qj < w else { continue }
                let qp = qi * w + qj
                let dist = (v * v).sum().squareRoot()
                guard ob[qp] > objectThreshold, Swift.abs(db[qp] - dist) < visibilityTolerance else { continue }
                // Every bilinear neighbour must be object too, or background would be read.
                let x0 = Int((px - 0.5).rounded(.down)), y0 = Int((py - 0.5).rounded(.down))
                guard x0 >= 0, y0 >= 0, x0 + 1 < w, y0 + 1 < h,
                      ob[y0 * w + x0] > objectThreshold, ob[y0 * w + x0 + 1] > objectThreshold,
                      ob[(y0 + 1) * w + x0] > objectThreshold, ob[(y0 + 1) * w + x0 + 1] > objectThreshold else { continue }
                var es: Float = 0, er: Float = 0
                for c in 0..<3 {
                    let src = ia[c * plane + p]
                    es += Swift.abs(src - ib[c * plane + p])
                    er += Swift.abs(src - bilinear(ib, channel: c, h: h, w: w, x: px - 0.5, y: py - 0.5))
                }
                same += Double(es) / 3
                reproj += Double(er) / 3
                count += 1
            }
        }
        return (same, reproj, count)
    }

    /// The view's colours in 0–1 with the white background taken out of object pixels
    /// (opacity α > ½): `(c − (1 − α))/α`, the object's own colour however soft its edge
    /// (a NeRF's partial opacity or a toy's partial pixel coverage alike); background pixels as they are.
    static func objectColours(_ r: RenderedView) -> [Float] {
        let plane = r.opacity.count
        var out = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane {
            let alpha = r.opacity.data[p]
            for c in 0..<3 {
                let v = (r.image.data[c * plane + p] + 1) / 2
                out[c * plane + p] = alpha > objectThreshold ? Swift.min(Swift.max((v - (1 - alpha)) / alpha, 0), 1) : v
            }
        }
        return out
    }

    /// Bilinear sample of channel `c` of a `[3, h, w]` image at continuous pixel coordinates
    /// (`x = j` is column `j`'s centre), clamped at the edges.
    static func bilinear(_ img: [Float], channel c: Int, h: Int, w: Int, x: Float, y: Float) -> Float {
        let xc = Swift.min(Swift.max(x, 0), Float(w - 1)), yc = Swift.min(Swift.max(y, 0), Float(h - 1))
        let x0 = Int(xc), y0 = Int(yc)
        let x1 = Swift.min(x0 + 1, w - 1), y1 = Swift.min(y0 + 1, h - 1)
        let fx = xc - Float(x0), fy = yc - Float(y0)
        let base = c * h * w
        let top = img[base + y0 * w + x0] * (1 - fx) + img[base + y0 * w + x1] * fx
        let bottom = img[base + y1 * w + x0] * (1 - fx) + img[base + y1 * w + x1] * fx
        return top * (1 - fy) + bottom * fy
    }
}
