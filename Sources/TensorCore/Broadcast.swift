/// NumPy-style broadcasting: shapes are right-aligned; an extent of 1 stretches.
public enum Broadcast {
    /// The broadcast result shape of `a` and `b`, or a trap naming both shapes.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of `shape` viewed as `outShape` (0 on stretched axes).
    static func stridesInto(_ shape: [Int], _ outShape: [Int]) -> [Int] {
        let r = outShape.count
        let own = Tensor.strides(for: shape)
        var s = [Int](repeating: 0, count: r)
        for i in 0..<shape.count {
            let j = i + r - shape.count
            s[j] = shape[i] == 1 ? 0 : own[i]
        }
        return s
    }

    /// Walks `outShape` in row-major order in runs along the last axis, calling
    /// `body(outStart, aStart, bStart, runLength, aStep, bStep)` for each run.
    @inline(__always)
    static func forEachRun(_ outShape: [Int], _ aStrides: [Int], _ bStrides: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let r = outShape.count
        let total = outShape.reduce(1, *)
        if total == 0 { return }
        if r == 0 { body(0, 0, 0, 1, 0, 0); return }
        let inner = outShape[r - 1]
        let aStep = aStrides[r - 1], bStep = bStrides[r - 1]
        var idx = [Int](repeating: 0, count: r)
        var ao = 0, bo = 0, o = 0
        while o < total {
            body(o, ao, bo, inner, aStep, bStep)
            o += inner
            // Advance the odometer over the outer axes.
            var d = r - 2
            while d >= 0 {
                idx[d] += 1
                ao += aStrides[d]
                bo += bStrides[d]
                if idx[d] < outShape[d] { break }
                ao -= aStrides[d] * idx[d]
                bo -= bStrides[d] * idx[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// Sums `g` (shape `outShape`) down to `shape` (which broadcasts to `outShape`).
    public static func sum(_ g: [Float], from outShape: [Int], to shape: [Int]) -> [Float] {
        if outShape == shape { return g }
        var res = [Float](repeating: 0, count: shape.reduce(1, *))
        let s = stridesInto(shape, outShape)
        res.withUnsafeMutableBufferPointer { rp in
            g.withUnsafeBufferPointer { gp in
                forEachRun(outShape, s, s) { o, a, _, n, aStep, _ in
                    if aStep == 0 {
                        var acc: Float = 0
                        for k in 0..<n { acc += gp[o &+ k] }
                        rp[a] += acc
                    } else {
                        for k in 0..<n { rp[a &+ k &* aStep] += gp[o &+ k] }
                    }
                }
            }
        }
        return res
    }

    /// Materialises `x` (shape `shape`) broadcast to `outShape`.
    public static func expand(_ x: [Float], from shape: [Int], to outShape: [Int]) -> [Float] {
        if outShape == shape { return x }
        var res = [Float](repeating: 0, count: outShape.reduce(1, *))
        let s = stridesInto(shape, outShape)
        res.withUnsafeMutableBufferPointer { rp in
            x.withUnsafeBufferPointer { xp in
                forEachRun(outShape, s, s) { o, a, _, n, aStep, _ in
                    for k in 0..<n { rp[o &+ k] = xp[a &+ k &* aStep] }
                }
            }
        }
        return res
    }
}
