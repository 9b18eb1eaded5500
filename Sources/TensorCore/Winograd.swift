// 3×3 stride-1 conv2d forward by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016,
// "Fast Algorithms for Convolutional Neural Networks", §4): each 2×2 output tile is
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ (per output/input channel pair),   V = Bᵀ d B (d: the 4×4 input patch)
// summed over the input channels, so the channel sum at each of the 16 patch positions ξ is one
// sgemm, with 16 multiplies per 2×2 outputs instead of 36: 2.25× fewer than im2col's gemm.
//
// Channel-major throughout (NCHW in and out, no transposes, no image-sized scratch):
//   U_ξ [Cout, Cin]  the weight transform, once per call
//   V_ξ [Cin, R]     the input transform of R tiles (whole rows of tiles of one image)
//   M_ξ [Cout, R] = U_ξ · V_ξ                                   16 sgemms per chunk of tiles
//   y  = Aᵀ M A + b  written straight into the output planes
// Work items are (image, chunk of tile rows) pairs, one contiguous run per worker, OpenBLAS on
// one thread inside, scratch from ``ScratchPool`` (reused across calls: no page faults).
// Only the forward (and the JVP, which is forward convolutions) runs here; the backward is
// im2col's (Convolution.backward), which needs nothing from the forward pass.
//
// Numerics: the transforms are exact in binary arithmetic except G's halves (exact too) and the
// different summation order, so results differ from im2col by float rounding only
// (ConvolutionTests.winograd* check it against the direct loop).

/// Winograd F(2×2, 3×3) forward convolution (see the file comment).
enum Winograd {
    /// Tiles per chunk the work aims at (whole rows of tiles, at least one row): the gemms are
    /// `[Cout, Cin]·[Cin, R]`, fast from R ≈ 128, and the chunk's V and M stay in the L2/L3 caches.
    static let targetTiles = 256

    /// Whether ``Convolution/forward(_:x:weight:bias:)`` takes this path: 3×3 kernels with
    /// stride 1, at least 16 input and output channels, and images of at least 16×16 outputs
    /// (measured: smaller ones, and the few-channel first and last layers, are no faster).
    static func applies(_ geo: ConvGeometry) -> Bool {
        geo.kh == 3 && geo.kw == 3 && geo.stride == 1 && geo.cin >= 16 && geo.cout >= 16 && geo.ho >= 16 && geo.wo >= 16
    }

    /// `[N, Cout, Ho, Wo]` output of a 3×3 stride-1 convolution (any padding), bias optional.
    static func forward(_ geo: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?) -> [Float] {
        precondition(geo.kh == 3 && geo.kw == 3 && geo.stride == 1, "Winograd F(2×2, 3×3) needs a 3×3 kernel and stride 1")
        let cin = geo.cin, cout = geo.cout
        let tilesWide = (geo.wo + 1) / 2, tilesHigh = (geo.ho + 1) / 2
        let rowsPerChunk = Swift.max(1, Swift.min(tilesHigh, targetTiles / tilesWide))
        let chunks = (tilesHigh + rowsPerChunk - 1) / rowsPerChunk
        let maxTiles = rowsPerChunk * tilesWide
        let rowWidth = 2 * tilesWide + 2
        let u = weightTransform(geo, weight)
        return uninitializedFloats(geo.n * geo.outputSize) { yp in
            nonisolated(unsafe) let y = yp
            x.withUnsafeBufferPointer { xb in u.withUnsafeBufferPointer { ub in
                nonisolated(unsafe) let xp = xb.baseAddress!, up = ub.baseAddress!
                Convolution.forEachChunk(geo.n * chunks) { _, items in
                    let scratchCount = 16 * (cin + cout) * maxTiles + 8 * rowWidth
                    ScratchPool.shared.with(scratchCount) { scratch in
                        let v = scratch, m = v + 16 * cin * maxTiles, rows = m + 16 * cout * maxTiles
                        for item in items {
                            let i = item / chunks, first = (item % chunks) * rowsPerChunk
                            let tileRows = first ..< Swift.min(first + rowsPerChunk, tilesHigh)
                            let tiles = tileRows.count * tilesWide
                            inputTransform(geo, image: xp + i * geo.imageSize, tileRows: tileRows, tilesWide: tilesWide,
                                           into: v, rows: rows)
                            for xi in 0..<16 {   // M_ξ = U_ξ · V_ξ
                                sgemm(m: cout, n: tiles, k: cin, a: up + xi * cout * cin, lda: cin,
                                      b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                            }
                            outputTransform(geo, m, tileRows: tileRows, tilesWide: tilesWide, bias: bias,
                                            into: y + i * geo.outputSize)
                        }
                    }
                }
            } }
        }
    }

    /// `U_ξ[o, c] = (G g Gᵀ)_ξ` for the 3×3 kernel `g = W[o, c]`, with
    /// `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`; 16 matrices `[Cout, Cin]`, ξ = 4·row + column.
    static func weightTransform(_ geo: ConvGeometry, _ weight: [Float]) -> [Float] {
        let pairs = geo.cout * geo.cin
        return uninitializedFloats(16 * pairs) { u in
            weight.withUnsafeBufferPointer { wb in
                let w = wb.baseAddress!
                for pair in 0..<pairs {
                    let g = w + pair &* 9
                    // G g (4×3), one column of 4 at a time
                    @inline(__always) func column(_ col: Int) -> SIMD4<Float> {
                        let a = g[col], b = g[3 &+ col], c = g[6 &+ col]
                        return SIMD4(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
                    }
                    let gg0 = column(0), gg1 = column(1), gg2 = column(2)
                    // (G g) Gᵀ: each row (a, b, c) becomes (a, ½(a+b+c), ½(a−b+c), c)
                    let out0 = gg0, out1 = 0.5 * (gg0 + gg1 + gg2), out2 = 0.5 * (gg0 - gg1 + gg2), out3 = gg2
                    for row in 0..<4 {
                        let base = (row &* 4) &* pairs &+ pair
                        u[base] = out0[row]
                        u[base &+ pairs] = out1[row]
                        u[base &+ 2 &* pairs] = out2[row]
                        u[base &+ 3 &* pairs] = out3[row]
                    }
                }
            }
        }
    }

    /// `V_ξ[c, t] = (Bᵀ d B)_ξ` for the 4×4 input patches `d` of the tiles in `tileRows` (tile
    /// `t` = row-in-chunk · tilesWide + column), `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0],
    /// [0, 1, 0, −1]]`; patches reach into the zero padding (and past the image for odd sizes).
    /// `rows` is scratch of `8·(2·tilesWide + 2)` floats.
    static func inputTransform(_ geo: ConvGeometry, image: UnsafePointer<Float>, tileRows: Range<Int>, tilesWide: Int,
                               into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let cin = geo.cin, h = geo.h, w = geo.w, pad = geo.pad
        let tiles = tileRows.count &* tilesWide
        let width = 2 &* tilesWide &+ 2                           // padded row: column q is input column q − pad
        let r0 = rows, r1 = r0 + width, r2 = r1 + width, r3 = r2 + width
        let t0 = r3 + width, t1 = t0 + width, t2 = t1 + width, t3 = t2 + width
        let lo = Swift.min(width, pad), hi = Swift.max(lo, Swift.min(width, pad &+ w))   // columns inside the image
        for c in 0..<cin {
            let plane = image + c &* h &* w
            for (k, th) in tileRows.enumerated() {
                for i in 0..<4 {
                    let dst = rows + i &* width
                    let ih = 2 &* th &- pad &+ i
                    if ih < 0 || ih >= h {
                        dst.initialize(repeating: 0, count: width)
                    } else {
                        if lo > 0 { dst.initialize(repeating: 0, count: lo) }
                        (dst + lo).initialize(from: plane + (ih &* w &+ lo &- pad), count: hi &- lo)
                        if hi < width { (dst + hi).initialize(repeating: 0, count: width &- hi) }
                    }
                }
                for q in 0..<width {                              // Bᵀ d: the row combinations
                    t0[q] = r0[q] - r2[q]
                    t1[q] = r1[q] + r2[q]
                    t2[q] = r2[q] - r1[q]
                    t3[q] = r1[q] - r3[q]
                }
                let base = c &* tiles &+ k &* tilesWide
                for i in 0..<4 {                                  // (Bᵀ d) B: the column combinations
                    let t = t0 + i &* width
                    let v0 = v + ((4 &* i) &* cin &* tiles &+ base), v1 = v0 + cin &* tiles
                    let v2 = v1 + cin &* tiles, v3 = v2 + cin &* tiles
                    for j in 0..<tilesWide {
                        let q = 2 &* j
                        let a = t[q], b = t[q &+ 1], cc = t[q &+ 2], d = t[q &+ 3]
                        v0[j] = a - cc
                        v1[j] = b + cc
                        v2[j] = cc - b
                        v3[j] = b - d
                    }
                }
            }
        }
    }

    /// `y[o, 2·th + a, 2·tw + b] = (Aᵀ M A)[a, b] + bias[o]` for the tiles of `tileRows`, with
    /// `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`; outputs past an odd edge are dropped.
    static func outputTransform(_ geo: ConvGeometry, _ m: UnsafeMutablePointer<Float>, tileRows: Range<Int>, tilesWide: Int,
                                bias: [Float]?, into y: UnsafeMutablePointer<Float>) {
        let cout = geo.cout, ho = geo.ho, wo = geo.wo
        let tiles = tileRows.count &* tilesWide
        let fullTiles = wo / 2                                    // tiles whose two columns are both inside
        let stream = cout &* tiles
        for o in 0..<cout {
            let b = bias?[o] ?? 0
            let plane = y + o &* geo.p
            for (k, th) in tileRows.enumerated() {
                let m0 = UnsafePointer(m) + (o &* tiles &+ k &* tilesWide)   // M_ξ at m0 + ξ·stream
                let oh = 2 &* th
                let row0 = plane + oh &* wo
                let hasRow1 = oh &+ 1 < ho
                let row1 = hasRow1 ? row0 + wo : row0                 // (not written when outside)
                @inline(__always) func tile(_ j: Int) -> (Float, Float, Float, Float) {
                    var s0 = SIMD4<Float>(), s1 = SIMD4<Float>()
                    for col in 0..<4 {
                        let a0 = m0[col &* stream &+ j], a1 = m0[(4 &+ col) &* stream &+ j]
                        let a2 = m0[(8 &+ col) &* stream &+ j], a3 = m0[(12 &+ col) &* stream &+ j]
                        s0[col] = a0 + a1 + a2
                        s1[col] = a1 - a2 - a3
                    }
                    return (s0[0] + s0[1] + s0[2] + b, s0[1] - s0[2] - s0[3] + b,
                            s1[0] + s1[1] + s1[2] + b, s1[1] - s1[2] - s1[3] + b)
                }
                for j in 0..<fullTiles {
                    let (y00, y01, y10, y11) = tile(j)
                    row0[2 &* j] = y00
                    row0[2 &* j &+ 1] = y01
                    if hasRow1 {
                        row1[2 &* j] = y10
                        row1[2 &* j &+ 1] = y11
                    }
                }
                if fullTiles < tilesWide {                        // odd width: the last column only
                    let (y00, _, y10, _) = tile(fullTiles)
                    row0[2 &* fullTiles] = y00
                    if hasRow1 { row1[2 &* fullTiles] = y10 }
                }
            }
        }
    }
}
