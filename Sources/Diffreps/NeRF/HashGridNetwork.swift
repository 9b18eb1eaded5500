import Foundation
import TensorCore

// The hash-grid field's network — encoding, linear, relu, linear, relu, linear — as one op.
// Op by op, each of the five steps writes and rereads arrays of P × 64 floats (tens of MB for a
// render's samples), and sgemm spends as long packing those skinny operands as multiplying them.
// Here the points go through the whole network in chunks of `chunk` rows that stay in cache, the
// workers each take a contiguous run of chunks, and the backward and forward-mode passes do the same
// per chunk with the activations kept from the forward pass (the relu masks are `a > 0`).

/// `h = W₃·relu(W₂·relu(W₁·x + b₁) + b₂) + b₃` with `x` the hash encoding of each point, as one
/// op with a VJP and a JVP in every parameter (the table and the layers').
///
/// ```swift
/// let network = HashGridNetwork(encoding: HashGridEncoding(points: points, box: box))
/// let h = network(table: table, layers: [(w1, b1), (w2, b2), (w3, b3)])     // [P, 1 + C]
/// ```
struct HashGridNetwork {
    let encoding: HashGridEncoding
    /// Points per chunk: a chunk's activations (`chunk × H` floats, twice) stay in L2.
    static let chunk = 256

    /// One layer's sizes and data pointers.
    struct Layer {
        let inputs: Int, outputs: Int
        let weight: UnsafePointer<Float>, bias: UnsafePointer<Float>
    }

    /// The network's raw outputs `[P, O]` for three layers `(weight [out, in], bias [out])`.
    func callAsFunction(table: Tensor, layers: [(weight: Tensor, bias: Tensor)]) -> Tensor {
        precondition(layers.count == 3, "HashGridNetwork: three layers, got \(layers.count)")
        let P = encoding.pointCount, F = encoding.configuration.outputFeatures
        let H = layers[0].weight.shape[0], O = layers[2].weight.shape[0]
        precondition(layers[0].weight.shape == [H, F] && layers[1].weight.shape == [H, H] && layers[2].weight.shape == [O, H]
                     && layers.map(\.bias.shape) == [[H], [H], [O]], "HashGridNetwork: layer shapes do not chain")
        let x = FloatBuffer(P * F), a1 = FloatBuffer(P * H), a2 = FloatBuffer(P * H)   // [P, F], [P, H], [P, H]: kept for the passes below
        let h = FloatBuffer(P * O)                                                      // [P, O]
        withLayers(layers) { ls in
            table.data.withUnsafeBufferPointer { tp in
                nonisolated(unsafe) let tp = tp.baseAddress!
                forEachChunk(P) { lo, n in
                    encoding.gather(tp, points: lo..<(lo &+ n), into: x.at(lo &* F))
                    Self.affine(x.at(lo &* F), rows: n, ls[0], into: a1.at(lo &* H), relu: true)
                    Self.affine(a1.at(lo &* H), rows: n, ls[1], into: a2.at(lo &* H), relu: true)
                    Self.affine(a2.at(lo &* H), rows: n, ls[2], into: h.at(lo &* O), relu: false)
                }
            }
        }
        let parents = [table] + layers.flatMap { [$0.weight, $0.bias] }
        return Tensor.makeResult(
            op: "hashGridNetwork", shape: [P, O], data: h.array(), parents: parents,
            backward: { g in backward(g, table: table, layers: layers, x: x, a1: a1, a2: a2) },
            jvp: { tangent(table: table, layers: layers, x: x, a1: a1, a2: a2) })
    }

    /// Accumulates the VJP of the output gradient `g` `[P, O]` into the parents' gradients.
    private func backward(_ g: [Float], table: Tensor, layers: [(weight: Tensor, bias: Tensor)],
                          x: FloatBuffer, a1: FloatBuffer, a2: FloatBuffer) {
        let P = encoding.pointCount, F = encoding.configuration.outputFeatures
        let H = layers[0].weight.shape[0], O = layers[2].weight.shape[0]
        let tableSize = table.requiresGrad ? table.count : 0
        // One buffer per worker: [table | W₁ b₁ | W₂ b₂ | W₃ b₃].
        let offsets = [tableSize, tableSize + H * F + H, tableSize + H * F + H + H * H + H]
        let size = offsets[2] + O * H + O
        let sum = withLayers(layers) { ls in
            g.withUnsafeBufferPointer { gp in
                nonisolated(unsafe) let gp = gp.baseAddress!
                return ChunkBuffers.scatter(points: P, size: size) { buffer, points in
                    let d2 = FloatBuffer(Self.chunk * H), d1 = FloatBuffer(Self.chunk * H), dx = FloatBuffer(Self.chunk * F)
                    Self.forEachChunk(in: points) { lo, n in
                        let dh = gp + lo &* O                                               // [n, O]
                        // Layer 3: dW₃ += dhᵀ·a₂, db₃ += Σ dh, then ∂a₂ = dh·W₃ masked by a₂ > 0.
                        Self.weightGradient(dh, rows: n, ls[2], input: a2.at(lo &* H), into: buffer + offsets[2])
                        BLAS.gemm(m: n, n: H, k: O, a: dh, b: ls[2].weight, c: d2.pointer)
                        Self.mask(d2.pointer, by: a2.at(lo &* H), count: n &* H)
                        // Layer 2.
                        Self.weightGradient(d2.pointer, rows: n, ls[1], input: a1.at(lo &* H), into: buffer + offsets[1])
                        BLAS.gemm(m: n, n: H, k: H, a: d2.pointer, b: ls[1].weight, c: d1.pointer)
                        Self.mask(d1.pointer, by: a1.at(lo &* H), count: n &* H)
                        // Layer 1, then the encoding's scatter into the table.
                        Self.weightGradient(d1.pointer, rows: n, ls[0], input: x.at(lo &* F), into: buffer + offsets[0])
                        if tableSize > 0 {
                            BLAS.gemm(m: n, n: F, k: H, a: d1.pointer, b: ls[0].weight, c: dx.pointer)
                            encoding.scatter(dx.pointer, points: lo..<(lo &+ n), into: buffer)
                        }
                    }
                }
            }
        }
        sum.withUnsafeBufferPointer { sp in
            let sp = sp.baseAddress!
            func add(_ t: Tensor, from start: Int) {
                t.accumulateGrad { dst in for i in 0..<dst.count { dst[i] += sp[start &+ i] } }
            }
            if tableSize > 0 { add(table, from: 0) }
            for (k, layer) in layers.enumerated() {
                add(layer.weight, from: offsets[k])
                add(layer.bias, from: offsets[k] + layer.weight.count)
            }
        }
    }

    /// The output's tangent `[P, O]` from the parents' tangents (a missing one is zero).
    private func tangent(table: Tensor, layers: [(weight: Tensor, bias: Tensor)], x: FloatBuffer, a1: FloatBuffer, a2: FloatBuffer) -> [Float] {
        let P = encoding.pointCount, F = encoding.configuration.outputFeatures
        let H = layers[0].weight.shape[0], O = layers[2].weight.shape[0]
        let out = FloatBuffer(P * O)
        let tableTangent = table.tangent
        withLayers(layers) { ls in
            withOptionalLayers(layers) { ts in
                withOptional(tableTangent) { tt in
                    ChunkBuffers.forEachRun(points: P, size: Self.chunk) { run in
                        let tx = FloatBuffer(Self.chunk * F), t1 = FloatBuffer(Self.chunk * H), t2 = FloatBuffer(Self.chunk * H)
                        Self.forEachChunk(in: run) { lo, n in
                            // ẋ = encode(table tangent); ż₁ = ẋ·W₁ᵀ + x·Ẇ₁ᵀ + ḃ₁; ȧ₁ = ż₁ where a₁ > 0 …
                            if let tt { encoding.gather(tt, points: lo..<(lo &+ n), into: tx.pointer) }
                            Self.tangentAffine(input: x.at(lo &* F), inputTangent: tt == nil ? nil : tx.pointer, rows: n,
                                               ls[0], ts[0], into: t1.pointer)
                            Self.mask(t1.pointer, by: a1.at(lo &* H), count: n &* H)
                            Self.tangentAffine(input: a1.at(lo &* H), inputTangent: t1.pointer, rows: n, ls[1], ts[1], into: t2.pointer)
                            Self.mask(t2.pointer, by: a2.at(lo &* H), count: n &* H)
                            Self.tangentAffine(input: a2.at(lo &* H), inputTangent: t2.pointer, rows: n, ls[2], ts[2], into: out.at(lo &* O))
                        }
                    }
                }
            }
        }
        return out.array()
    }

    // MARK: - Kernels on one chunk

    /// `out = input·Wᵀ + b` (`[rows, out]`), then relu in place if asked.
    private static func affine(_ input: UnsafePointer<Float>, rows: Int, _ layer: Layer,
                               into out: UnsafeMutablePointer<Float>, relu: Bool) {
        let m = layer.outputs
        for r in 0..<rows { (out + r &* m).update(from: layer.bias, count: m) }
        BLAS.gemm(transB: true, m: rows, n: m, k: layer.inputs, a: input, b: layer.weight, beta: 1, c: out)
        if relu { for i in 0..<(rows &* m) { out[i] = Swift.max(out[i], 0) } }
    }

    /// `ż = u̇·Wᵀ + u·Ẇᵀ + ḃ` (`[rows, out]`) with missing tangents zero.
    private static func tangentAffine(input: UnsafePointer<Float>, inputTangent: UnsafePointer<Float>?, rows: Int,
                                      _ layer: Layer, _ tangent: (weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?),
                                      into out: UnsafeMutablePointer<Float>) {
        let m = layer.outputs, k = layer.inputs
        if let tb = tangent.bias {
            for r in 0..<rows { (out + r &* m).update(from: tb, count: m) }
        } else {
            out.update(repeating: 0, count: rows &* m)
        }
        if let inputTangent { BLAS.gemm(transB: true, m: rows, n: m, k: k, a: inputTangent, b: layer.weight, beta: 1, c: out) }
        if let tw = tangent.weight { BLAS.gemm(transB: true, m: rows, n: m, k: k, a: input, b: tw, beta: 1, c: out) }
    }

    /// `dW += dzᵀ·input`, `db += Σ_rows dz` into `[W | b]` at `out`.
    private static func weightGradient(_ dz: UnsafePointer<Float>, rows: Int, _ layer: Layer, input: UnsafePointer<Float>,
                                       into out: UnsafeMutablePointer<Float>) {
        let m = layer.outputs, k = layer.inputs
        BLAS.gemm(transA: true, m: m, n: k, k: rows, a: dz, b: input, beta: 1, c: out)
        let db = out + m &* k
        for r in 0..<rows {
            let row = dz + r &* m
            for j in 0..<m { db[j] += row[j] }
        }
    }

    /// `d[i] = 0` where `activation[i]` is not positive (relu's derivative).
    @inline(__always)
    private static func mask(_ d: UnsafeMutablePointer<Float>, by activation: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { d[i] = activation[i] > 0 ? d[i] : 0 }
    }

    // MARK: - Plumbing

    /// Runs `body(first, count)` for the consecutive chunks of ``chunk`` points of one worker's `run`.
    @inline(__always)
    private static func forEachChunk(in run: Range<Int>, _ body: (Int, Int) -> Void) {
        for lo in stride(from: run.lowerBound, to: run.upperBound, by: chunk) { body(lo, Swift.min(chunk, run.upperBound &- lo)) }
    }

    /// Runs `body(first, count)` for chunks of ``chunk`` points across the workers.
    private func forEachChunk(_ P: Int, _ body: (Int, Int) -> Void) {
        ChunkBuffers.forEachChunk(points: P, size: Self.chunk) { body($0.lowerBound, $0.count) }
    }

    /// The layers' data as pointers for the duration of `body`.
    private func withLayers<R>(_ layers: [(weight: Tensor, bias: Tensor)], _ body: ([Layer]) -> R) -> R {
        let w = layers.map(\.weight.data), b = layers.map(\.bias.data)
        return w[0].withUnsafeBufferPointer { w0 in w[1].withUnsafeBufferPointer { w1 in w[2].withUnsafeBufferPointer { w2 in
            b[0].withUnsafeBufferPointer { b0 in b[1].withUnsafeBufferPointer { b1 in b[2].withUnsafeBufferPointer { b2 in
                let ws = [w0, w1, w2], bs = [b0, b1, b2]
                return body((0..<3).map { k in
                    Layer(inputs: layers[k].weight.shape[1], outputs: layers[k].weight.shape[0],
                          weight: ws[k].baseAddress!, bias: bs[k].baseAddress!)
                })
            }}}
        }}}
    }

    /// The layers' tangents as pointers (nil where a tensor carries none) for the duration of `body`.
    private func withOptionalLayers<R>(_ layers: [(weight: Tensor, bias: Tensor)],
                                       _ body: ([(weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?)]) -> R) -> R {
        let w = layers.map(\.weight.tangent), b = layers.map(\.bias.tangent)
        return withOptional(w[0]) { w0 in withOptional(w[1]) { w1 in withOptional(w[2]) { w2 in
            withOptional(b[0]) { b0 in withOptional(b[1]) { b1 in withOptional(b[2]) { b2 in
                body([(w0, b0), (w1, b1), (w2, b2)])
            }}}
        }}}
    }
}

/// `body` with a pointer to `values` (nil for nil).
private func withOptional<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Floats the chunks write into from several workers (each its own rows); freed with the last
/// reference (the tape's closures hold the forward pass's activations).
private final class FloatBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// `count` uninitialised floats.
    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
    }

    deinit { pointer.deallocate() }

    func at(_ offset: Int) -> UnsafeMutablePointer<Float> { pointer + offset }

    /// The contents as an array (a copy).
    func array() -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
