import TensorCore

// Where a voxel grid's ray samples fall — each sample's distance, lower cell corner and the
// fractions past it — depends on the rays, the box and the grid's resolution only, not on the
// grid's values. An inner pullback solve marches the same rays against changing values twenty
// times (LeastSquares' Adam), so NeRFDiffrep computes this once per set of views and the marcher
// reads it instead of locating every sample again (VoxelGridRayMarcher.swift, step 1).
// The arithmetic is the marcher's own (``VoxelGridRayMarcher/locate``), so marching with or
// without it gives the same bits.

extension VoxelGridRayMarcher {
    /// Every sample's place in the grid for one set of rays (bin midpoints or given offsets).
    ///
    /// ```swift
    /// let geometry = VoxelGridRayMarcher.Geometry(marcher)       // once per set of views
    /// var m = marcher; m.geometry = geometry                         // every solve step
    /// ```
    struct Geometry: Sendable {
        /// What it was computed for (a marcher that differs in any of these cannot use it).
        let rayCount: Int, samplesPerRay: Int, resolution: Int, box: SceneBox, offsetsCount: Int
        /// Samples per ray, padded to whole blocks (the marcher's scratch capacity).
        let capacity: Int
        /// Per ray `[R]`: where it enters the box, and its bin width `δ` (−1: it misses the box).
        let near: [Float], width: [Float]
        /// Per sample, `r·capacity + i` `[R·capacity]`: distance along the ray, lower cell
        /// corner (linear vertex index) and the fractions past it on each axis.
        let t: [Float], corner: [Int32], fx: [Float], fy: [Float], fz: [Float]

        /// The geometry of `marcher`'s rays and sample offsets.
        init(_ marcher: VoxelGridRayMarcher) {
            let R = marcher.rayCount, S = marcher.samplesPerRay, N = marcher.resolution
            let P = (S + VoxelGridRayMarcher.block - 1) / VoxelGridRayMarcher.block * VoxelGridRayMarcher.block
            (rayCount, samplesPerRay, resolution, box, offsetsCount, capacity) = (R, S, N, marcher.box, marcher.offsets.count, P)
            var near = [Float](repeating: 0, count: R), width = [Float](repeating: -1, count: R)
            var t = [Float](repeating: 0, count: R * P), fx = t, fy = t, fz = t
            var corner = [Int32](repeating: 0, count: R * P)
            near.withUnsafeMutableBufferPointer { np in width.withUnsafeMutableBufferPointer { wp in
            t.withUnsafeMutableBufferPointer { tp in corner.withUnsafeMutableBufferPointer { cp in
            fx.withUnsafeMutableBufferPointer { xp in fy.withUnsafeMutableBufferPointer { yp in
            fz.withUnsafeMutableBufferPointer { zp in marcher.withPointers { _, up, _ in
                nonisolated(unsafe) let np = np.baseAddress!, wp = wp.baseAddress!, tp = tp.baseAddress!, cp = cp.baseAddress!
                nonisolated(unsafe) let xp = xp.baseAddress!, yp = yp.baseAddress!, zp = zp.baseAddress!, up = up
                let chunk = marcher.minRaysPerChunk, inv = 1 / marcher.box.halfExtent, n = Float(N - 1)
                Parallel.forEach((R + chunk - 1) / chunk) { k in
                    for r in (k &* chunk)..<Swift.min(R, (k &+ 1) &* chunk) {
                        let (o, d) = marcher.ray(r)
                        guard let (n0, w) = marcher.bins(origin: o, direction: d) else { continue }
                        np[r] = n0
                        wp[r] = w
                        var i = 0
                        while i < P {
                            let at = marcher.locate(r, i, origin: o, direction: d, near: n0, width: w, offsets: up, inv: inv, n: n)
                            let b = r &* P &+ i
                            UnsafeMutableRawPointer(tp + b).storeBytes(of: at.t, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(cp + b).storeBytes(of: at.corner, as: SIMD4<Int32>.self)
                            UnsafeMutableRawPointer(xp + b).storeBytes(of: at.fx, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(yp + b).storeBytes(of: at.fy, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(zp + b).storeBytes(of: at.fz, as: SIMD4<Float>.self)
                            i &+= 4
                        }
                    }
                }
            }}}}}}}}
            (self.near, self.width, self.t, self.corner, self.fx, self.fy, self.fz) = (near, width, t, corner, fx, fy, fz)
        }

        /// Whether `marcher` marches the rays this geometry was computed for (same count, samples,
        /// grid and offsets; the rays themselves are the caller's promise).
        func fits(_ marcher: VoxelGridRayMarcher) -> Bool {
            rayCount == marcher.rayCount && fits(samplesPerRay: marcher.samplesPerRay, resolution: marcher.resolution,
                                                 box: marcher.box, offsetsCount: marcher.offsets.count)
        }

        /// Whether it holds midpoint samples of `grid` at `samplesPerRay` (the rays are the caller's).
        func fits(samplesPerRay S: Int, grid: VoxelGridField) -> Bool {
            fits(samplesPerRay: S, resolution: grid.resolution, box: grid.box, offsetsCount: 0)
        }

        /// The one check behind both: same samples per ray, grid resolution, box and offsets.
        private func fits(samplesPerRay S: Int, resolution N: Int, box b: SceneBox, offsetsCount o: Int) -> Bool {
            samplesPerRay == S && resolution == N && box == b && offsetsCount == o
        }

        /// Raw pointers for the marcher's inner loop (valid inside `body` only).
        func withPointers<T>(_ body: (Pointers) -> T) -> T {
            near.withUnsafeBufferPointer { n in width.withUnsafeBufferPointer { w in t.withUnsafeBufferPointer { tp in
            corner.withUnsafeBufferPointer { c in fx.withUnsafeBufferPointer { x in fy.withUnsafeBufferPointer { y in
            fz.withUnsafeBufferPointer { z in
                body(Pointers(near: n.baseAddress!, width: w.baseAddress!, t: tp.baseAddress!, corner: c.baseAddress!,
                              fx: x.baseAddress!, fy: y.baseAddress!, fz: z.baseAddress!, capacity: capacity))
            }}}}}}}
        }

        /// ``Geometry``'s arrays as pointers.
        struct Pointers {
            let near, width, t: UnsafePointer<Float>
            let corner: UnsafePointer<Int32>
            let fx, fy, fz: UnsafePointer<Float>
            let capacity: Int

            /// Four floats of `array` from sample `i` of ray `r` (`i` a multiple of 4).
            @inline(__always) func load(_ array: UnsafePointer<Float>, _ r: Int, _ i: Int) -> SIMD4<Float> {
                UnsafeRawPointer(array + (r &* capacity &+ i)).load(as: SIMD4<Float>.self)
            }
        }
    }
}
