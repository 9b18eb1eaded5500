import COpenBLAS
import Foundation
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
// The patch matrix is built and used in tiles of pixels that stay in the L2 cache (the gemms
// are as fast on 64–250-row tiles as on whole images). Work runs in contiguous chunks, one per
// worker (OpenBLAS on one thread inside, scratch buffers per worker, reused across calls):
// (image, tile) pairs forward, so a batch of one still uses every core; images backward
// (a batch smaller than the worker count runs its backward on threaded OpenBLAS). One big
// gemm over the whole batch on threaded OpenBLAS measured 2–7× slower on 2 cores.
// 1×1 convolutions with stride 1 and no padding need no patches: y_n = W·x_n.
// 3×3 stride-1 convolutions with enough channels and pixels run forward by Winograd F(2×2, 3×3)
// instead (Winograd.swift: 2.25× fewer multiplies); their backward is the one here.

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
    /// Pixels per patch-matrix tile: about 64 K values (256 KB), or at least 64 rows and 2·Cout rows, split evenly.
    /// (Tile sizes from 16 to all rows measured within 5 % of each other on the benchmark shapes.)
    var tileRows: Int {
        // OpenBLAS packs the weight again for every tile: keep tiles well taller than Cout.
        let target = Swift.max(1, Swift.min(p, rowTarget))
        let tiles = (p + target - 1) / target
        return Swift.max(1, (p + tiles - 1) / Swift.max(tiles, 1))   // equal tiles, no short last one
    }

    /// The patch-matrix rows a tile aims at: about 64 K values, at least 64 rows and 2·Cout rows.
    var rowTarget: Int { Swift.max(64, 2 * cout, 65_536 / Swift.max(k, 1)) }

    /// Images whose patch matrices the forward pass stacks into one tile (one gemm): more than
    /// one when an image has fewer output pixels than a tile aims at (the 8×8 and 4×4 levels of
    /// a UNet, where a gemm per image is a few rows tall), but no fewer groups than workers.
    var imagesPerTile: Int {
        guard p < rowTarget, !isPointwise else { return 1 }
        let perWorker = (n + Parallel.workers - 1) / Swift.max(Parallel.workers, 1)
        return Swift.max(1, Swift.min(rowTarget / Swift.max(p, 1), perWorker))
    }

    /// Rows the per-worker patch and output scratch tiles hold.
    var scratchRows: Int { Swift.max(tileRows, imagesPerTile * p) }
}

/// An array of `count` floats whose every element `body` writes (no zero-fill first).
@inline(__always)
func uninitializedFloats(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, initialized in
        if count > 0 { body(buf.baseAddress!) }
        initialized = count
    }
}

/// Float buffers kept between calls, so that per-call scratch memory does not page-fault
/// afresh every time (large allocations are fresh mmaps). Holds at most `limit` floats.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutablePointer<Float>, count: Int)] = []
    private var held = 0
    private let limit = 16 << 20   // 64 MB

    /// A buffer of at least `count` floats (contents undefined); return it with ``give(_:count:)``.
    func take(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let need = Swift.max(count, 1)
        lock.lock()
        defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].count >= need }).min(by: { free[$0].count < free[$1].count }) {
            let b = free.remove(at: i)
            held -= b.count
            return b
        }
        return (.allocate(capacity: need), need)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        lock.lock()
        defer { lock.unlock() }
        free.append((pointer, count))
        held += count
        while held > limit, let i = free.indices.min(by: { free[$0].count < free[$1].count }) {
            held -= free[i].count
            free.remove(at: i).pointer.deallocate()
        }
    }

    /// Runs `body` with a buffer of `count` floats.
    func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let (p, n) = take(count)
        defer { give(p, count: n) }
        return body(p)
    }
}

/// One worker's scratch memory for the per-image conv2d steps (from ``ScratchPool``).
struct ConvScratch {
    /// `xᵀ` `[H·W, Cin]`.
    let image: UnsafeMutablePointer<Float>
    /// `dxᵀ` `[H·W, Cin]`.
    let imageGrad: UnsafeMutablePointer<Float>
    /// A tile of the patch matrix `[scratchRows, K]`.
    let patches: UnsafeMutablePointer<Float>
    /// A tile of the patch-matrix gradient `[scratchRows, K]`.
    let patchGrad: UnsafeMutablePointer<Float>
    /// A tile of `yᵀ` `[scratchRows, Cout]`.
    let output: UnsafeMutablePointer<Float>
    private let block: (UnsafeMutablePointer<Float>, Int)

    init(_ geo: ConvGeometry) {
        let tile = geo.scratchRows * geo.k
        block = ScratchPool.shared.take(2 * geo.imageSize + 2 * tile + geo.scratchRows * geo.cout)
        image = block.0
        imageGrad = image + geo.imageSize
        patches = imageGrad + geo.imageSize
        patchGrad = patches + tile
        output = patchGrad + tile
    }

    func release() { ScratchPool.shared.give(block.0, count: block.1) }
}

/// Row-major sgemm with explicit leading dimensions: `C = alpha·op(A)·op(B) + beta·C`.
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The conv2d kernels: layout changes, patch matrices and the per-image gemms.
enum Convolution {
    /// Runs `body(chunk, range)` on contiguous chunks of `0..<n`, one chunk per worker.
    static func forEachChunk(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let w = chunkCount(n)
        Parallel.forEach(w) { c in body(c, n * c / w ..< n * (c + 1) / w) }
    }

    /// Number of chunks ``forEachChunk(_:_:)`` makes.
    static func chunkCount(_ n: Int) -> Int { Swift.max(1, Swift.min(Parallel.workers, n)) }

    /// `[N, Cout, Ho, Wo]` output of the convolution (bias optional): Winograd F(2×2, 3×3)
    /// where ``Winograd/applies(_:)`` (3×3, stride 1, enough channels and pixels), else im2col.
    static func forward(_ geo: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?) -> [Float] {
        if Winograd.applies(geo) { return Winograd.forward(geo, x: x, weight: weight, bias: bias) }
        return im2colForward(geo, x: x, weight: weight, bias: bias)
    }

    /// `[N, Cout, Ho, Wo]` output of the convolution by patch matrices and sgemm (any kernel, stride, padding).
    static func im2colForward(_ geo: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?) -> [Float] {
        let k = geo.k, p = geo.p, cout = geo.cout, rows = geo.tileRows
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
                let group = geo.imagesPerTile
                if group > 1 {
                    // Small images: the patch matrices of `group` images stacked, one gemm for all.
                    let groups = (geo.n + group - 1) / group
                    forEachChunk(groups) { _, items in
                        let s = ConvScratch(geo)
                        defer { s.release() }
                        for item in items {
                            let i0 = item * group, count = Swift.min(group, geo.n - i0)
                            for j in 0..<count {
                                transpose(xp + (i0 + j) * geo.imageSize, rows: geo.cin, cols: geo.hw, into: s.image, ld: geo.cin, bias: nil)
                                patches(geo, pixels: 0..<p, from: s.image, into: s.patches + j * p * k)
                            }
                            sgemm(transB: true, m: count * p, n: cout, k: k, a: s.patches, lda: k, b: wp, ldb: k, c: s.output, ldc: cout)
                            for j in 0..<count {
                                transpose(s.output + j * p * cout, rows: p, cols: cout, into: y + (i0 + j) * geo.outputSize, ld: p, bias: bias)
                            }
                        }
                    }
                    return
                }
                // Work items are (image, tile) pairs, so that a batch smaller than the worker
                // count still runs in parallel; a worker re-transposes x only when its image changes.
                let tiles = (p + rows - 1) / rows
                forEachChunk(geo.n * tiles) { _, items in
                    let s = ConvScratch(geo)
                    defer { s.release() }
                    var current = -1
                    for item in items {
                        let i = item / tiles, p0 = (item % tiles) * rows, r = Swift.min(rows, p - p0)
                        if i != current {
                            transpose(xp + i * geo.imageSize, rows: geo.cin, cols: geo.hw, into: s.image, ld: geo.cin, bias: nil)
                            current = i
                        }
                        // yᵀ tile = patches · W'ᵀ
                        patches(geo, pixels: p0..<(p0 + r), scratch: s)
                        sgemm(transB: true, m: r, n: cout, k: k, a: s.patches, lda: k, b: wp, ldb: k, c: s.output, ldc: cout)
                        transpose(s.output, rows: r, cols: cout, into: y + i * geo.outputSize + p0, ld: p, bias: bias)
                    }
                }
            } }
        }
    }

    /// Adds the weight and input gradients of `g` `[N, Cout, Ho, Wo]` into `weight` and `x`.
    static func backward(_ geo: ConvGeometry, g: [Float], x: Tensor, weight: Tensor) {
        let k = geo.k, p = geo.p, cout = geo.cout, cin = geo.cin, hw = geo.hw, rows = geo.tileRows
        if geo.n == 0 { return }
        // Work units: images, or groups of small images stacked as in the forward pass.
        let group = geo.imagesPerTile, units = (geo.n + group - 1) / group
        let chunks = chunkCount(units)
        let wt = geo.isPointwise ? weight.data : patchOrder(geo, weight.data)
        // dW' partial sums, one per chunk, added up afterwards
        let dwSum: [Float]? = ScratchPool.shared.with(weight.requiresGrad ? chunks * cout * k : 0) { partials in
            nonisolated(unsafe) let part = weight.requiresGrad ? partials : nil
            g.withUnsafeBufferPointer { gb in x.data.withUnsafeBufferPointer { xb in wt.withUnsafeBufferPointer { wb in
                nonisolated(unsafe) let gp = gb.baseAddress!, xp = xb.baseAddress!, wp = wb.baseAddress!
                withGradPointer(x) { dxp, fresh in
                    nonisolated(unsafe) let dx = dxp
                    forEachChunk(units) { c, images in
                        let dw = part.map { $0 + c * cout * k }
                        dw?.initialize(repeating: 0, count: cout * k)
                        if group > 1 {
                            // Small images: gᵀ of the group [count·P, Cout] pixel-major, then one gemm
                            // for dW' and one for the patch gradients of the whole group.
                            let s = ConvScratch(geo)
                            defer { s.release() }
                            for item in images {
                                let i0 = item * group, count = Swift.min(group, geo.n - i0), r = count * p
                                for j in 0..<count {
                                    Transpose.run(gp + (i0 + j) * geo.outputSize, rows: cout, cols: p, srcLd: p,
                                                  s.output + j * p * cout, dstLd: cout, bias: nil, add: false)
                                }
                                if let dw {   // dW' += gᵀᵀ · patches
                                    for j in 0..<count {
                                        transpose(xp + (i0 + j) * geo.imageSize, rows: cin, cols: hw, into: s.image, ld: cin, bias: nil)
                                        patches(geo, pixels: 0..<p, from: s.image, into: s.patches + j * p * k)
                                    }
                                    sgemm(transA: true, m: cout, n: k, k: r, a: s.output, lda: cout, b: s.patches, ldb: k,
                                          beta: 1, c: dw, ldc: k)
                                }
                                if let dx {   // patch gradients = gᵀ · W', then col2im per image
                                    sgemm(m: r, n: k, k: cout, a: s.output, lda: cout, b: wp, ldb: k, c: s.patchGrad, ldc: k)
                                    for j in 0..<count {
                                        s.imageGrad.initialize(repeating: 0, count: hw * cin)
                                        patchesBackward(geo, pixels: 0..<p, from: s.patchGrad + j * p * k, into: s.imageGrad)
                                        Transpose.run(s.imageGrad, rows: hw, cols: cin, srcLd: cin, dx + (i0 + j) * geo.imageSize,
                                                      dstLd: hw, bias: nil, add: !fresh)
                                    }
                                }
                            }
                            return
                        }
                        if geo.isPointwise {
                            for i in images {
                                let gi = gp + i * geo.outputSize, xi = xp + i * geo.imageSize
                                if let dw {   // dW += g_n · x_nᵀ
                                    BLAS.gemm(transB: true, m: cout, n: cin, k: p, a: gi, b: xi, beta: 1, c: dw)
                                }
                                if let dx {   // dx_n += Wᵀ · g_n
                                    BLAS.gemm(transA: true, m: cin, n: p, k: cout, a: wp, b: gi, beta: fresh ? 0 : 1,
                                              c: dx + i * geo.imageSize)
                                }
                            }
                            return
                        }
                        let s = ConvScratch(geo)
                        defer { s.release() }
                        for i in images {
                            let gi = gp + i * geo.outputSize
                            if dw != nil {
                                transpose(xp + i * geo.imageSize, rows: cin, cols: hw, into: s.image, ld: cin, bias: nil)
                            }
                            for p0 in stride(from: 0, to: p, by: rows) {
                                let r = Swift.min(rows, p - p0)
                                if let dw {   // dW' += g_n[:, tile] · patches
                                    patches(geo, pixels: p0..<(p0 + r), scratch: s)
                                    sgemm(m: cout, n: k, k: r, a: gi + p0, lda: p, b: s.patches, ldb: k, beta: 1, c: dw, ldc: k)
                                }
                                if dx != nil {   // patch gradient = g_n[:, tile]ᵀ · W'
                                    sgemm(transA: true, m: r, n: k, k: cout, a: gi + p0, lda: p, b: wp, ldb: k,
                                          c: s.patchGrad, ldc: k)
                                    if p0 == 0 { s.imageGrad.initialize(repeating: 0, count: hw * cin) }
                                    patchesBackward(geo, pixels: p0..<(p0 + r), scratch: s)
                                }
                            }
                            if let dx {
                                Transpose.run(s.imageGrad, rows: hw, cols: cin, srcLd: cin, dx + i * geo.imageSize, dstLd: hw,
                                              bias: nil, add: !fresh)
                            }
                        }
                    }
                }
            } } }
            guard let part else { return nil }
            for c in 1..<chunks {
                let src = part + c * cout * k
                for j in 0..<(cout * k) { part[j] += src[j] }
            }
            return Array(UnsafeBufferPointer(start: part, count: cout * k))
        }
        if let dwSum { weight.accumulateGrad(geo.isPointwise ? dwSum : weightOrder(geo, dwSum)) }
    }

    /// Calls `body(pointer, fresh)` with `t`'s gradient buffer, or nil off the tape. A missing
    /// gradient is allocated unfilled and `fresh` is true: `body` must then write every value.
    static func withGradPointer(_ t: Tensor, _ body: (UnsafeMutablePointer<Float>?, Bool) -> Void) {
        guard t.requiresGrad else { return body(nil, false) }
        let fresh = t.grad == nil
        if fresh { t.grad = uninitializedFloats(t.count) { _ in } }
        t.grad!.withUnsafeMutableBufferPointer { body($0.baseAddress!, fresh) }
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

    /// `dst[c·ld + r] = src[r·cols + c] (+ bias[c])` for `src` `[rows, cols]`.
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>,
                          ld: Int, bias: [Float]?) {
        if let bias {
            bias.withUnsafeBufferPointer { b in
                Transpose.run(src, rows: rows, cols: cols, srcLd: cols, dst, dstLd: ld, bias: b.baseAddress, add: false)
            }
        } else {
            Transpose.run(src, rows: rows, cols: cols, srcLd: cols, dst, dstLd: ld, bias: nil, add: false)
        }
    }

    // MARK: Patches

    /// Writes rows `pixels` of the patch matrix of one image into `scratch.patches` (from row 0),
    /// reading its transpose `scratch.image` `[H·W, Cin]`: row `(oh, ow)`, column `(ki, kj, c)`,
    /// zeros where the tap falls in the padding.
    static func patches(_ geo: ConvGeometry, pixels: Range<Int>, scratch: ConvScratch) {
        patches(geo, pixels: pixels, from: scratch.image, into: scratch.patches)
    }

    /// Writes rows `pixels` of the patch matrix of the image whose transpose is `xt` `[H·W, Cin]`
    /// into `patches` (from row 0).
    static func patches(_ geo: ConvGeometry, pixels: Range<Int>, from xt: UnsafeMutablePointer<Float>,
                        into patches: UnsafeMutablePointer<Float>) {
        let cin = geo.cin, w = geo.w, s = geo.stride, pad = geo.pad, kw = geo.kw
        let xt = UnsafePointer(xt)
        var dst = patches
        for px in pixels {
            let oh = px / geo.wo, ow = px % geo.wo
            let iw0 = ow &* s &- pad
            // the run of taps kj whose column is inside the image
            let kjLo = Swift.min(kw, Swift.max(0, -iw0)), kjHi = Swift.max(kjLo, Swift.min(kw, w &- iw0))
            for ki in 0..<geo.kh {
                let ih = oh &* s &- pad &+ ki
                if ih >= 0 && ih < geo.h {
                    if kjLo > 0 { dst.initialize(repeating: 0, count: kjLo &* cin) }
                    if kjHi > kjLo {
                        let src = xt + (ih &* w &+ iw0 &+ kjLo) &* cin
                        (dst + kjLo &* cin).initialize(from: src, count: (kjHi &- kjLo) &* cin)
                    }
                    if kjHi < kw { (dst + kjHi &* cin).initialize(repeating: 0, count: (kw &- kjHi) &* cin) }
                } else {
                    dst.initialize(repeating: 0, count: kw &* cin)
                }
                dst += kw &* cin
            }
        }
    }

    /// Adds rows `pixels` of the patch-matrix gradient (`scratch.patchGrad`, from row 0) onto
    /// `scratch.imageGrad` `[H·W, Cin]`.
    static func patchesBackward(_ geo: ConvGeometry, pixels: Range<Int>, scratch: ConvScratch) {
        patchesBackward(geo, pixels: pixels, from: scratch.patchGrad, into: scratch.imageGrad)
    }

    /// Adds rows `pixels` of the patch-matrix gradient `patchGrad` (from row 0) onto one image's
    /// transposed gradient `dxt` `[H·W, Cin]`.
    static func patchesBackward(_ geo: ConvGeometry, pixels: Range<Int>, from patchGrad: UnsafeMutablePointer<Float>,
                                into dxt: UnsafeMutablePointer<Float>) {
        let cin = geo.cin, w = geo.w, s = geo.stride, pad = geo.pad, kw = geo.kw
        var src = UnsafePointer(patchGrad)
        for px in pixels {
            let oh = px / geo.wo, ow = px % geo.wo
            let iw0 = ow &* s &- pad
            let kjLo = Swift.min(kw, Swift.max(0, -iw0)), kjHi = Swift.max(kjLo, Swift.min(kw, w &- iw0))
            for ki in 0..<geo.kh {
                let ih = oh &* s &- pad &+ ki
                if ih >= 0 && ih < geo.h {
                    let dst = dxt + (ih &* w &+ iw0 &+ kjLo) &* cin
                    let from = src + kjLo &* cin
                    for j in 0..<((kjHi &- kjLo) &* cin) { dst[j] += from[j] }
                }
                src += kw &* cin
            }
        }
    }
}

/// Matrix transposes in 8×8 register blocks (`SIMD8<Float>` rows; three rounds of even/odd
/// interleaving rotate the 6-bit element index by 3, which swaps row and column).
enum Transpose {
    /// `dst[c·dstLd + r] (+)= src[r·srcLd + c] + bias[c]` for `r < rows`, `c < cols`.
    static func run(_ src: UnsafePointer<Float>, rows: Int, cols: Int, srcLd: Int,
                    _ dst: UnsafeMutablePointer<Float>, dstLd: Int, bias: UnsafePointer<Float>?, add: Bool) {
        let rows8 = rows & ~7, cols8 = cols & ~7
        for c0 in stride(from: 0, to: cols8, by: 8) {
            for r0 in stride(from: 0, to: rows8, by: 8) {
                block(src + (r0 &* srcLd &+ c0), srcLd, dst + (c0 &* dstLd &+ r0), dstLd, bias.map { $0 + c0 }, add)
            }
        }
        // ragged edges, one value at a time
        for c in 0..<cols {
            let d = dst + c &* dstLd, b = bias?[c] ?? 0
            let rStart = c < cols8 ? rows8 : 0
            for r in rStart..<rows {
                let v = src[r &* srcLd &+ c] + b
                if add { d[r] += v } else { d[r] = v }
            }
        }
    }

    @inline(__always)
    static func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
        let ab = SIMD16(lowHalf: a, highHalf: b)
        return (ab.evenHalf, ab.oddHalf)
    }

    @inline(__always)
    static func block(_ src: UnsafePointer<Float>, _ srcLd: Int, _ dst: UnsafeMutablePointer<Float>, _ dstLd: Int,
                      _ bias: UnsafePointer<Float>?, _ add: Bool) {
        let s = UnsafeRawPointer(src), stride = srcLd &* 4
        var v0 = s.loadUnaligned(as: SIMD8<Float>.self), v1 = s.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self)
        var v2 = s.loadUnaligned(fromByteOffset: 2 &* stride, as: SIMD8<Float>.self)
        var v3 = s.loadUnaligned(fromByteOffset: 3 &* stride, as: SIMD8<Float>.self)
        var v4 = s.loadUnaligned(fromByteOffset: 4 &* stride, as: SIMD8<Float>.self)
        var v5 = s.loadUnaligned(fromByteOffset: 5 &* stride, as: SIMD8<Float>.self)
        var v6 = s.loadUnaligned(fromByteOffset: 6 &* stride, as: SIMD8<Float>.self)
        var v7 = s.loadUnaligned(fromByteOffset: 7 &* stride, as: SIMD8<Float>.self)
        for _ in 0..<3 {
            let (n0, n4) = interleave(v0, v1), (n1, n5) = interleave(v2, v3)
            let (n2, n6) = interleave(v4, v5), (n3, n7) = interleave(v6, v7)
            (v0, v1, v2, v3, v4, v5, v6, v7) = (n0, n1, n2, n3, n4, n5, n6, n7)
        }
        let out = [v0, v1, v2, v3, v4, v5, v6, v7]
        let d = UnsafeMutableRawPointer(dst), dStride = dstLd &* 4
        for i in 0..<8 {
            var v = out[i]
            if let bias { v += SIMD8(repeating: bias[i]) }
            if add { v += d.loadUnaligned(fromByteOffset: i &* dStride, as: SIMD8<Float>.self) }
            d.storeBytes(of: v, toByteOffset: i &* dStride, as: SIMD8<Float>.self)
        }
    }
}
