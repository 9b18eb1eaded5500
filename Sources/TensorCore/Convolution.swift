import RealModule

// 2D convolution (cross-correlation, PyTorch's conv2d) by im2col + sgemm, with a fused,
// hand-written backward (weight, bias and input gradients, the last through col2im) and a JVP.
//
// The patch matrix is pixel-major (rows are output pixels, as in an NHWC im2col), which keeps
// the gemms' long side on the pixels: sgemm runs 20–50 % faster than with the channel-major
// `[K, P]` layout when Cout is small. Per image n, with K = kh·kw·Cin and P = Ho·Wo:
//   xᵀ_n [H·W, Cin] = x_nᵀ             col_n [P, K] = patches of xᵀ_n, column (ki, kj, c)
//   yᵀ_n [P, Cout] = col_n · W'ᵀ        y_n = (yᵀ_n)ᵀ + b          W' = W as [Cout, kh, kw, Cin]
//   dW' += g_n · col_n                  dcol_n = g_nᵀ · W',  dx_n += (col2im(dcol_n))ᵀ
// Images run in parallel (one worker per contiguous chunk of the batch, OpenBLAS on one
// thread inside, scratch buffers per worker); a batch smaller than the worker count runs
// serially on threaded OpenBLAS. 1×1 convolutions with stride 1 and no padding need no
// patches: y_n = W · x_n.

extension Tensor {
    /// 2D convolution of `self` `[N, Cin, H, W]` with `weight` `[Cout, Cin, kh, kw]` (PyTorch layout)
    /// plus `bias` `[Cout]`, zero padding on all four sides; the result is `[N, Cout, Ho, Wo]` with
    /// `Ho = (H + 2·padding − kh) / stride + 1` (likewise `Wo`).
    ///
    /// ```swift
    /// let x = Tensor.zeros([8, 3, 32, 32])
    /// let w = Tensor.parameter([16, 3, 3, 3], data: [Float](repeating: 0.1, count: 16 * 27))
    /// x.conv2d(w, bias: nil, padding: 1).shape   // [8, 16, 32, 32]
    /// ```
    public func conv2d(_ weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        let x = self
        precondition(x.rank == 4, "conv2d input must be [N, Cin, H, W], got \(x.shape)")
        precondition(weight.rank == 4, "conv2d weight must be [Cout, Cin, kh, kw], got \(weight.shape)")
        precondition(weight.shape[1] == x.shape[1],
                     "conv2d: input has \(x.shape[1]) channels but weight \(weight.shape) expects \(weight.shape[1])")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be ≥ 1 and padding ≥ 0")
        if let bias {
            precondition(bias.shape == [weight.shape[0]], "conv2d bias must be [\(weight.shape[0])], got \(bias.shape)")
        }
        let geo = ConvGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
        precondition(geo.ho > 0 && geo.wo > 0,
                     "conv2d: kernel \(geo.kh)×\(geo.kw) does not fit input \(geo.h)×\(geo.w) with padding \(padding)")

        let out = Convolution.forward(geo, x: x.data, weight: weight.data, bias: bias?.data)
        let parents = bias.map { [x, weight, $0] } ?? [x, weight]
        return Tensor.makeResult(
            op: "conv2d", shape: [geo.n, geo.cout, geo.ho, geo.wo], data: out, parents: parents,
            backward: { g in
                if weight.requiresGrad || x.requiresGrad {
                    Convolution.backward(geo, g: g, x: x, weight: weight)
                }
                if let bias, bias.requiresGrad {
                    bias.accumulateGrad { db in Convolution.biasGradient(geo, g: g, into: db.baseAddress!) }
                }
            },
            jvp: {
                // d(conv(x, W) + b) = conv(ẋ, W) + conv(x, Ẇ) + ḃ
                var t: [Float]? = nil
                if let tx = x.tangent { t = Convolution.forward(geo, x: tx, weight: weight.data, bias: bias?.tangent) }
                if let tw = weight.tangent {
                    let u = Convolution.forward(geo, x: x.data, weight: tw, bias: t == nil ? bias?.tangent : nil)
                    if t == nil { t = u } else { Convolution.add(u, into: &t!) }
                }
                return t ?? Convolution.broadcastBias(geo, bias: bias?.tangent)
            })
    }
}

/// Sizes of one conv2d call.
struct ConvGeometry {
    let n, cin, h, w, cout, kh, kw, stride, pad, ho, wo: Int

    init(input: [Int], weight: [Int], stride: Int, padding: Int) {
        n = input[0]; cin = input[1]; h = input[2]; w = input[3]
        cout = weight[0]; kh = weight[2]; kw = weight[3]
        self.stride = stride; pad = padding
        ho = (h + 2 * padding - kh) / stride + 1
        wo = (w + 2 * padding - kw) / stride + 1
    }

    /// Columns of the patch matrix: `kh·kw·Cin`.
    var k: Int { cin * kh * kw }
    /// Output pixels per channel: `Ho·Wo`.
    var p: Int { ho * wo }
    /// Input pixels per channel: `H·W`.
    var hw: Int { h * w }
    /// Input values per image.
    var imageSize: Int { cin * h * w }
    /// Output values per image.
    var outputSize: Int { cout * ho * wo }
    /// True when the patch matrix is the image itself (1×1 kernel, stride 1, no padding).
    var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && pad == 0 }
}

/// An array of `count` floats whose every element `body` writes (no zero-fill first).
@inline(__always)
func uninitializedFloats(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, initialized in
        if count > 0 { body(buf.baseAddress!) }
        initialized = count
    }
}

/// One worker's scratch memory for the per-image conv2d steps.
struct ConvScratch {
    /// `xᵀ` or `dxᵀ` `[H·W, Cin]`.
    let image: UnsafeMutablePointer<Float>
    /// The patch matrix or its gradient `[P, K]`.
    let patches: UnsafeMutablePointer<Float>
    /// `yᵀ` `[P, Cout]`.
    let output: UnsafeMutablePointer<Float>

    init(_ geo: ConvGeometry) {
        image = .allocate(capacity: Swift.max(geo.imageSize, 1))
        patches = .allocate(capacity: Swift.max(geo.p * geo.k, 1))
        output = .allocate(capacity: Swift.max(geo.outputSize, 1))
    }

    func deallocate() {
        image.deallocate()
        patches.deallocate()
        output.deallocate()
    }
}

/// The conv2d kernels: layout changes, patch matrices and the per-image gemms.
enum Convolution {
    /// Runs `body(range)` on contiguous chunks of `0..<n`, one chunk per worker.
    static func forEachChunk(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let w = Swift.max(1, Swift.min(Parallel.workers, n))
        Parallel.forEach(w) { c in body(c, n * c / w ..< n * (c + 1) / w) }
    }

    /// Number of chunks ``forEachChunk(_:_:)`` makes.
    static func chunkCount(_ n: Int) -> Int { Swift.max(1, Swift.min(Parallel.workers, n)) }

    /// `[N, Cout, Ho, Wo]` output of the convolution (bias optional).
    static func forward(_ geo: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?) -> [Float] {
        let k = geo.k, p = geo.p, cout = geo.cout
        let wt = geo.isPointwise ? weight : patchOrder(geo, weight)
        return uninitializedFloats(geo.n * geo.outputSize) { yp in
            nonisolated(unsafe) let y = yp
            x.withUnsafeBufferPointer { xb in wt.withUnsafeBufferPointer { wb in
                nonisolated(unsafe) let xp = xb.baseAddress!, wp = wb.baseAddress!
                if geo.isPointwise {
                    // y_n = W · x_n (+ b)
                    if let bias {
                        for i in 0..<(geo.n * cout) { (y + i * p).initialize(repeating: bias[i % cout], count: p) }
                    }
                    forEachChunk(geo.n) { _, images in
                        for i in images {
                            BLAS.gemm(m: cout, n: p, k: k, a: wp, b: xp + i * geo.imageSize,
                                      beta: bias == nil ? 0 : 1, c: y + i * geo.outputSize)
                        }
                    }
                    return
                }
                forEachChunk(geo.n) { _, images in
                    let s = ConvScratch(geo)
                    defer { s.deallocate() }
                    for i in images {
                        patches(geo, image: xp + i * geo.imageSize, scratch: s)
                        BLAS.gemm(transB: true, m: p, n: cout, k: k, a: s.patches, b: wp, c: s.output)
                        transpose(s.output, rows: p, cols: cout, into: y + i * geo.outputSize, bias: bias)
                    }
                }
            } }
        }
    }

    /// Adds the weight and input gradients of `g` `[N, Cout, Ho, Wo]` into `weight` and `x`.
    static func backward(_ geo: ConvGeometry, g: [Float], x: Tensor, weight: Tensor) {
        let k = geo.k, p = geo.p, cout = geo.cout, cin = geo.cin, hw = geo.hw
        let needW = weight.requiresGrad
        if geo.n == 0 { return }
        let chunks = chunkCount(geo.n)
        // dW' partial sums, one per chunk, added up afterwards
        let partials = needW ? UnsafeMutablePointer<Float>.allocate(capacity: chunks * cout * k) : nil
        defer { partials?.deallocate() }
        let wt = geo.isPointwise ? weight.data : patchOrder(geo, weight.data)
        g.withUnsafeBufferPointer { gb in x.data.withUnsafeBufferPointer { xb in wt.withUnsafeBufferPointer { wb in
            nonisolated(unsafe) let gp = gb.baseAddress!, xp = xb.baseAddress!, wp = wb.baseAddress!
            nonisolated(unsafe) let part = partials
            withGradPointer(x) { dxp in
                nonisolated(unsafe) let dx = dxp
                forEachChunk(geo.n) { c, images in
                    let dw = part.map { $0 + c * cout * k }
                    if geo.isPointwise {
                        for (j, i) in images.enumerated() {
                            let gi = gp + i * geo.outputSize, xi = xp + i * geo.imageSize
                            if let dw {   // dW += g_n · x_nᵀ
                                BLAS.gemm(transB: true, m: cout, n: cin, k: p, a: gi, b: xi, beta: j == 0 ? 0 : 1, c: dw)
                            }
                            if let dx {   // dx_n += Wᵀ · g_n
                                BLAS.gemm(transA: true, m: cin, n: p, k: cout, a: wp, b: gi, beta: 1, c: dx + i * geo.imageSize)
                            }
                        }
                        return
                    }
                    let s = ConvScratch(geo)
                    defer { s.deallocate() }
                    for (j, i) in images.enumerated() {
                        let gi = gp + i * geo.outputSize
                        if let dw {   // dW' += g_n · col_n
                            patches(geo, image: xp + i * geo.imageSize, scratch: s)
                            BLAS.gemm(m: cout, n: k, k: p, a: gi, b: s.patches, beta: j == 0 ? 0 : 1, c: dw)
                        }
                        if let dx {   // dcol_n = g_nᵀ · W', dx_n += col2im(dcol_n)ᵀ
                            BLAS.gemm(transA: true, m: p, n: k, k: cout, a: gi, b: wp, c: s.patches)
                            s.image.initialize(repeating: 0, count: hw * cin)
                            patchesBackward(geo, scratch: s)
                            transposeAdd(s.image, rows: hw, cols: cin, into: dx + i * geo.imageSize)
                        }
                    }
                    if let dw, images.isEmpty { dw.initialize(repeating: 0, count: cout * k) }
                }
            }
        } } }
        if let partials {
            for c in 1..<chunks {
                let src = partials + c * cout * k
                for j in 0..<(cout * k) { partials[j] += src[j] }
            }
            let sum = Array(UnsafeBufferPointer(start: partials, count: cout * k))
            weight.accumulateGrad(geo.isPointwise ? sum : weightOrder(geo, sum))
        }
    }

    /// Calls `body` with `t`'s gradient buffer (allocated as zeros if needed), or nil off the tape.
    static func withGradPointer(_ t: Tensor, _ body: (UnsafeMutablePointer<Float>?) -> Void) {
        if t.requiresGrad { t.accumulateGrad { body($0.baseAddress!) } } else { body(nil) }
    }

    /// `bias` `[Cout]` (zeros when nil) broadcast to the output shape `[N, Cout, Ho, Wo]`.
    static func broadcastBias(_ geo: ConvGeometry, bias: [Float]?) -> [Float] {
        guard let bias else { return [Float](repeating: 0, count: geo.n * geo.outputSize) }
        return uninitializedFloats(geo.n * geo.outputSize) { y in
            for i in 0..<(geo.n * geo.cout) { (y + i * geo.p).initialize(repeating: bias[i % geo.cout], count: geo.p) }
        }
    }

    /// Adds `Σ_{n,p} g[n, c, p]` into `db[c]`.
    static func biasGradient(_ geo: ConvGeometry, g: [Float], into db: UnsafeMutablePointer<Float>) {
        let p = geo.p
        g.withUnsafeBufferPointer { gb in
            for i in 0..<(geo.n * geo.cout) {
                let row = gb.baseAddress! + i * p
                var s: Float = 0
                for j in 0..<p { s = Relaxed.sum(s, row[j]) }
                db[i % geo.cout] += s
            }
        }
    }

    /// `dst += src` elementwise.
    static func add(_ src: [Float], into dst: inout [Float]) {
        src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
            for i in 0..<d.count { d[i] += s[i] }
        } }
    }

    // MARK: Layouts

    /// The weight `[Cout, Cin, kh, kw]` reordered to the patch columns `[Cout, kh, kw, Cin]`.
    static func patchOrder(_ geo: ConvGeometry, _ w: [Float]) -> [Float] {
        let taps = geo.kh * geo.kw, cin = geo.cin
        return uninitializedFloats(w.count) { out in
            w.withUnsafeBufferPointer { src in
                for o in 0..<geo.cout {
                    for c in 0..<cin { for t in 0..<taps { out[(o * taps + t) * cin + c] = src[(o * cin + c) * taps + t] } }
                }
            }
        }
    }

    /// The inverse of ``patchOrder(_:_:)``: `[Cout, kh, kw, Cin]` back to `[Cout, Cin, kh, kw]`.
    static func weightOrder(_ geo: ConvGeometry, _ w: [Float]) -> [Float] {
        let taps = geo.kh * geo.kw, cin = geo.cin
        return uninitializedFloats(w.count) { out in
            w.withUnsafeBufferPointer { src in
                for o in 0..<geo.cout {
                    for c in 0..<cin { for t in 0..<taps { out[(o * cin + c) * taps + t] = src[(o * taps + t) * cin + c] } }
                }
            }
        }
    }

    /// `dst[c, r] = src[r, c] (+ bias[c])` for `src` `[rows, cols]`, in cache-sized tiles.
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>,
                          bias: [Float]?) {
        let tile = 16
        for c0 in stride(from: 0, to: cols, by: tile) {
            let c1 = Swift.min(c0 + tile, cols)
            for r0 in stride(from: 0, to: rows, by: tile) {
                let r1 = Swift.min(r0 + tile, rows)
                for c in c0..<c1 {
                    let d = dst + c &* rows, b = bias?[c] ?? 0
                    for r in r0..<r1 { d[r] = src[r &* cols &+ c] + b }
                }
            }
        }
    }

    /// `dst[c, r] += src[r, c]` for `src` `[rows, cols]`, in cache-sized tiles.
    static func transposeAdd(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        let tile = 16
        for c0 in stride(from: 0, to: cols, by: tile) {
            let c1 = Swift.min(c0 + tile, cols)
            for r0 in stride(from: 0, to: rows, by: tile) {
                let r1 = Swift.min(r0 + tile, rows)
                for c in c0..<c1 {
                    let d = dst + c &* rows
                    for r in r0..<r1 { d[r] += src[r &* cols &+ c] }
                }
            }
        }
    }

    // MARK: Patches

    /// Valid outputs `lo..<hi` along one axis for kernel tap `k`: those reading inside `0..<size`.
    @inline(__always)
    static func validRange(_ k: Int, size: Int, out: Int, stride: Int, pad: Int) -> (Int, Int) {
        // i = o·stride − pad + k must satisfy 0 ≤ i < size.
        let lo = Swift.min(out, Swift.max(0, (pad - k + stride - 1) / stride))
        let last = size - 1 + pad - k
        let hi = last < 0 ? lo : Swift.min(out, Swift.max(lo, last / stride + 1))
        return (lo, hi)
    }

    /// Writes `scratch.patches` `[P, K]` for one image `[Cin, H, W]` (through `scratch.image` = its
    /// transpose `[H·W, Cin]`): row `(oh, ow)`, column `(ki, kj, c)`, zeros where the tap falls in the padding.
    static func patches(_ geo: ConvGeometry, image x: UnsafePointer<Float>, scratch: ConvScratch) {
        let cin = geo.cin, w = geo.w, k = geo.k, s = geo.stride, pad = geo.pad
        transpose(x, rows: cin, cols: geo.hw, into: scratch.image, bias: nil)
        let xt = UnsafePointer(scratch.image)
        for oh in 0..<geo.ho {
            for ow in 0..<geo.wo {
                var dst = scratch.patches + (oh &* geo.wo &+ ow) &* k
                for ki in 0..<geo.kh {
                    let ih = oh &* s &- pad &+ ki
                    let rowValid = ih >= 0 && ih < geo.h
                    // the run of taps kj whose column is inside the image
                    let iw0 = ow &* s &- pad
                    let kjLo = rowValid ? Swift.min(geo.kw, Swift.max(0, -iw0)) : geo.kw
                    let kjHi = rowValid ? Swift.max(kjLo, Swift.min(geo.kw, w &- iw0)) : geo.kw
                    if kjLo > 0 { dst.initialize(repeating: 0, count: kjLo &* cin) }
                    if kjHi > kjLo {
                        let src = xt + (ih &* w &+ iw0 &+ kjLo) &* cin
                        (dst + kjLo &* cin).initialize(from: src, count: (kjHi &- kjLo) &* cin)
                    }
                    if kjHi < geo.kw { (dst + kjHi &* cin).initialize(repeating: 0, count: (geo.kw &- kjHi) &* cin) }
                    dst += geo.kw &* cin
                }
            }
        }
    }

    /// Adds the patch-matrix gradient `scratch.patches` `[P, K]` onto `scratch.image` `[H·W, Cin]`.
    static func patchesBackward(_ geo: ConvGeometry, scratch: ConvScratch) {
        let cin = geo.cin, w = geo.w, k = geo.k, s = geo.stride, pad = geo.pad
        let dxt = scratch.image
        for oh in 0..<geo.ho {
            for ow in 0..<geo.wo {
                var src = UnsafePointer(scratch.patches) + (oh &* geo.wo &+ ow) &* k
                for ki in 0..<geo.kh {
                    let ih = oh &* s &- pad &+ ki
                    if ih >= 0 && ih < geo.h {
                        let iw0 = ow &* s &- pad
                        let kjLo = Swift.min(geo.kw, Swift.max(0, -iw0))
                        let kjHi = Swift.max(kjLo, Swift.min(geo.kw, w &- iw0))
                        let dst = dxt + (ih &* w &+ iw0 &+ kjLo) &* cin
                        let from = src + kjLo &* cin
                        for j in 0..<((kjHi &- kjLo) &* cin) { dst[j] += from[j] }
                    }
                    src += geo.kw &* cin
                }
            }
        }
    }
}
