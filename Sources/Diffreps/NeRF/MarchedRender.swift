import TensorCore

// The voxel grid's fused render path on the tape (VoxelGridRayMarcher.swift has the kernels):
// a render of rays, one op per output, and the squared error of a render against targets as
// one op whose forward pass already computes its gradient.

extension VoxelGridField {
    /// Renders `rays` through the fused path (``VoxelGridRayMarcher``): colour `[R, 3]`,
    /// opacity and depth `[R]` as ``NeRFRenderer/render(_:samples:)`` gives them for this grid's
    /// stratified samples (`offsets` `[R·S]` places each sample in its bin, nil for the
    /// midpoints), each ray stopped once its transmittance is below `transmittanceThreshold`
    /// (0: never). Differentiable in reverse and forward mode in both grids and a learned
    /// `background` (`[3]`). Three colour channels only.
    ///
    /// ```swift
    /// let out = field.marchedRender(rays: rays, samplesPerRay: 48, offsets: nil,
    ///                               background: NeRFBackground.white.tensor(channels: 3), transmittanceThreshold: 1e-4)
    /// out.color.shape      // [R, 3]
    /// ```
    func marchedRender(rays: Rays, samplesPerRay S: Int, offsets: [Float]?, background: Tensor,
                       transmittanceThreshold: Float) -> RayRender {
        precondition(offsets.map { $0.count == rays.count * S } ?? true, "marchedRender: offsets must hold R·S values")
        let R = rays.count
        let marcher = self.marcher(rays: rays, samplesPerRay: S, offsets: offsets, background: background,
                                   transmittanceThreshold: transmittanceThreshold)
        let densityGrid = density, colorGrid = color
        let hasDensityTangent = densityGrid.tangent != nil, hasColorTangent = colorGrid.tangent != nil
        let tangentGrid = hasDensityTangent || hasColorTangent || background.tangent != nil
            ? VoxelGridRayMarcher.interleave(density: densityGrid.tangentOrZeros, color: colorGrid.tangentOrZeros) : nil
        let (fwd, tangents) = marcher.forward(tangentGrid: tangentGrid, hasDensityTangent: hasDensityTangent,
                                              hasColorTangent: hasColorTangent, backgroundTangent: background.tangent)
        let color = Tensor.makeResult(
            op: "marchedRender.color", shape: [R, 3], data: fwd.color, parents: [densityGrid, colorGrid, background],
            backward: { g in
                if densityGrid.requiresGrad || colorGrid.requiresGrad { self.accumulate(marcher.backward(.color, g)) }
                background.accumulateGrad { dst in
                    for r in 0..<R { for c in 0..<3 { dst[c] += g[r * 3 + c] * fwd.transFinal[r] } }
                }
            },
            jvp: { tangents!.color })
        let opacity = Tensor.makeResult(
            op: "marchedRender.opacity", shape: [R], data: fwd.opacity, parents: [densityGrid],
            backward: { g in self.accumulate(marcher.backward(.opacity, g), color: false) },
            jvp: { tangents!.opacity })
        let depth = Tensor.makeResult(
            op: "marchedRender.depth", shape: [R], data: fwd.depth, parents: [densityGrid],
            backward: { g in self.accumulate(marcher.backward(.depth, g), color: false) },
            jvp: { tangents!.depth })
        return RayRender(color: color, opacity: opacity, depth: depth)
    }

    /// `mean((colour − target)²)` over the rays' colours (midpoint samples, rays stopped below
    /// `transmittanceThreshold`) and `targets` `[K, 3, P]` (ray `k·P + p` against pixel `p` of
    /// image `k`; `P` = `pixelsPerImage`), as one op: its forward pass renders, compares and
    /// computes the gradient in one march per ray, and its backward pass only scales that
    /// gradient into the grids and a learned `background`. Reverse mode only (no tangents).
    /// `geometry`, from ``rayGeometry(rays:samplesPerRay:)`` for the same rays, saves locating
    /// the samples again (same result); nil locates them.
    ///
    /// ```swift
    /// let fit = field.marchedSquaredError(rays: rays, samplesPerRay: 48, background: bg, transmittanceThreshold: 1e-4,
    ///                                     targets: y.data, pixelsPerImage: 32 * 32)
    /// (fit + field.regularizer(smoothness: 0.005, sparsity: 0.01)!).backward()
    /// ```
    func marchedSquaredError(rays: Rays, samplesPerRay S: Int, background: Tensor, transmittanceThreshold: Float,
                             targets: [Float], pixelsPerImage: Int, geometry: VoxelGridRayMarcher.Geometry? = nil) -> Tensor {
        precondition(density.tangent == nil && color.tangent == nil && background.tangent == nil,
                     "marchedSquaredError: reverse mode only (render and compare for tangents)")
        var marcher = self.marcher(rays: rays, samplesPerRay: S, offsets: nil, background: background,
                                   transmittanceThreshold: transmittanceThreshold)
        marcher.geometry = geometry
        let n = Float(targets.count)
        let e = marcher.squaredError(targets: targets, pixelsPerImage: pixelsPerImage, scale: 1 / n)
        return Tensor.makeResult(
            op: "marchedSquaredError", shape: [], data: [Float(e.sum / Double(n))], parents: [density, color, background],
            backward: { g in
                self.accumulate(e.grid, scale: g[0])
                background.accumulateGrad { dst in for c in 0..<3 { dst[c] += g[0] * e.background[c] } }
            },
            jvp: nil)
    }

    /// Where the midpoint samples of `rays` fall in this grid (for ``marchedSquaredError``'s
    /// `geometry`: a solve marches the same rays at every step).
    func rayGeometry(rays: Rays, samplesPerRay S: Int) -> VoxelGridRayMarcher.Geometry {
        VoxelGridRayMarcher.Geometry(marcher(rays: rays, samplesPerRay: S, offsets: nil, background: Tensor.zeros([3]),
                                             transmittanceThreshold: 0))
    }

    /// The kernels for `rays` at the grids' current values.
    private func marcher(rays: Rays, samplesPerRay S: Int, offsets: [Float]?, background: Tensor,
                         transmittanceThreshold: Float) -> VoxelGridRayMarcher {
        precondition(channels == 3, "the fused render path takes three colour channels, got \(channels)")
        precondition(background.shape == [3], "the fused render path's background must be [3], got \(background.shape)")
        precondition(density.count <= Int(Int32.max), "the fused render path's grid is too large")
        let b = background.data
        return VoxelGridRayMarcher(
            rayCount: rays.count, samplesPerRay: S, origins: rays.origins.data, directions: rays.directions.data,
            offsets: offsets ?? [], box: box, resolution: resolution,
            grid: VoxelGridRayMarcher.interleave(density: density.data, color: color.data),
            densityActivation: densityActivation, densityBias: densityBias,
            background: SIMD4(0, b[0], b[1], b[2]), threshold: transmittanceThreshold)
    }

    /// Adds an interleaved raw-grid gradient `[4·N³]`, times `scale`, into the grids' gradients
    /// (the density's only unless `color`).
    private func accumulate(_ packed: [Float], scale: Float = 1, color withColor: Bool = true) {
        let (d, c) = VoxelGridRayMarcher.split(packed, scale: scale)
        density.accumulateGrad(d)
        if withColor { color.accumulateGrad(c) }
    }
}
