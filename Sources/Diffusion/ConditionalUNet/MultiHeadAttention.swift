import TensorCore

/// diffusers' `Attention` as a `BasicTransformerBlock` uses it: bias-free `to_q`/`to_k`/`to_v`
/// projections to `heads × headDim` features, scaled dot-product attention per head (scale
/// `1/√headDim`), and the `to_out.0` projection (with bias) back to the query width. Without a
/// context it is self-attention; with one (the text encoder's states) it is cross-attention.
struct MultiHeadAttention {
    let toQ: LinearLayer, toK: LinearLayer, toV: LinearLayer, toOut: LinearLayer
    let heads: Int

    /// `contextDim` `nil`: self-attention (keys and values from the queries' own tokens).
    init(_ b: ParameterBuilder, _ name: String, queryDim: Int, contextDim: Int?, heads: Int, headDim: Int) {
        let inner = heads * headDim
        toQ = LinearLayer(b, name + ".to_q", in: queryDim, out: inner, bias: false)
        toK = LinearLayer(b, name + ".to_k", in: contextDim ?? queryDim, out: inner, bias: false)
        toV = LinearLayer(b, name + ".to_v", in: contextDim ?? queryDim, out: inner, bias: false)
        toOut = LinearLayer(b, name + ".to_out.0", in: inner, out: queryDim)
        self.heads = heads
    }

    /// `x [N, L, queryDim]`, `context [N, Lc, contextDim]` (or `nil`) → `[N, L, queryDim]`
    func callAsFunction(_ x: Tensor, context: Tensor? = nil) -> Tensor {
        let source = context ?? x
        let q = toQ(x).splittingHeads(heads)                           // [N·heads, L, d]
        let k = toK(source).splittingHeads(heads)                      // [N·heads, Lc, d]
        let v = toV(source).splittingHeads(heads)
        return toOut(Tensor.attention(query: q, key: k, value: v).mergingHeads(heads))
    }
}

extension Tensor {
    /// `[N, L, heads·d] → [N·heads, L, d]`: each head becomes a batch entry of ``attention(query:key:value:scale:causal:)``.
    func splittingHeads(_ heads: Int) -> Tensor {
        let (n, l, f) = (shape[0], shape[1], shape[2])
        if heads == 1 { return self }
        return reshaped([n, l, heads, f / heads]).permuted([0, 2, 1, 3]).reshaped([n * heads, l, f / heads])
    }

    /// `[N·heads, L, d] → [N, L, heads·d]`, the inverse of ``splittingHeads(_:)``.
    func mergingHeads(_ heads: Int) -> Tensor {
        let (nh, l, d) = (shape[0], shape[1], shape[2])
        if heads == 1 { return self }
        return reshaped([nh / heads, heads, l, d]).permuted([0, 2, 1, 3]).reshaped([nh / heads, l, heads * d])
    }
}
