// Nearest-neighbour 2× upsampling of images (the UNet's up blocks), with VJP and JVP.

extension Tensor {
    /// Repeats every pixel of `self` `[N, C, H, W]` into a 2×2 block → `[N, C, 2H, 2W]`
    /// (PyTorch's `interpolate(scale_factor=2, mode="nearest")`).
    ///
    /// ```swift
    /// Tensor([1, 1, 1, 2], data: [1, 2]).upsampleNearest2x().data   // [1, 1, 2, 2, 1, 1, 2, 2]
    /// ```
    public func upsampleNearest2x() -> Tensor {
        precondition(rank == 4, "upsampleNearest2x needs [N, C, H, W], got \(shape)")
        let planes = shape[0] * shape[1], h = shape[2], w = shape[3]
        let outShape = [shape[0], shape[1], 2 * h, 2 * w]
        return Tensor.makeResult(
            op: "upsampleNearest2x", shape: outShape, data: Upsample.nearest2x(data, planes: planes, h: h, w: w),
            parents: [self],
            backward: { g in   // each input pixel receives the sum of its 2×2 block
                self.accumulateGrad { dx in
                    g.withUnsafeBufferPointer { gb in
                        nonisolated(unsafe) let gp = gb.baseAddress!, dp = dx.baseAddress!
                        Parallel.forEach(planes * h, minChunk: Swift.max(1, 8192 / Swift.max(w, 1))) { r in
                            let top = gp + r &* 4 &* w, bottom = top + 2 &* w, dst = dp + r &* w
                            for j in 0..<w {
                                dst[j] += (top[2 &* j] + top[2 &* j &+ 1]) + (bottom[2 &* j] + bottom[2 &* j &+ 1])
                            }
                        }
                    }
                }
            },
            jvp: { Upsample.nearest2x(self.tangentOrZeros, planes: planes, h: h, w: w) })
    }
}

enum Upsample {
    /// `[planes, H, W]` → `[planes, 2H, 2W]`, each value copied into its 2×2 block.
    static func nearest2x(_ x: [Float], planes: Int, h: Int, w: Int) -> [Float] {
        uninitializedFloats(planes * 4 * h * w) { op in
            nonisolated(unsafe) let o = op
            x.withUnsafeBufferPointer { xb in
                nonisolated(unsafe) let xp = xb.baseAddress!
                Parallel.forEach(planes * h, minChunk: Swift.max(1, 8192 / Swift.max(w, 1))) { r in
                    let src = xp + r &* w, top = o + r &* 4 &* w, bottom = top + 2 &* w
                    for j in 0..<w {
                        let v = src[j]
                        top[2 &* j] = v; top[2 &* j &+ 1] = v
                        bottom[2 &* j] = v; bottom[2 &* j &+ 1] = v
                    }
                }
            }
        }
    }
}
