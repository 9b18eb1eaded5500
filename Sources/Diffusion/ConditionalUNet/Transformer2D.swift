import TensorCore

/// diffusers' `BasicTransformerBlock` as Stable Diffusion uses it (layer norms before each part,
/// residual after each): self-attention, cross-attention on the text states, GEGLU feed-forward.
struct BasicTransformerBlock {
    let norm1: LayerNormLayer, attn1: MultiHeadAttention
    let norm2: LayerNormLayer, attn2: MultiHeadAttention
    let norm3: LayerNormLayer, ff: GEGLUFeedForward

    init(_ b: ParameterBuilder, _ name: String, dim: Int, heads: Int, headDim: Int, contextDim: Int) {
        norm1 = LayerNormLayer(b, name + ".norm1", features: dim, eps: 1e-5)
        attn1 = MultiHeadAttention(b, name + ".attn1", queryDim: dim, contextDim: nil, heads: heads, headDim: headDim)
        norm2 = LayerNormLayer(b, name + ".norm2", features: dim, eps: 1e-5)
        attn2 = MultiHeadAttention(b, name + ".attn2", queryDim: dim, contextDim: contextDim, heads: heads, headDim: headDim)
        norm3 = LayerNormLayer(b, name + ".norm3", features: dim, eps: 1e-5)
        ff = GEGLUFeedForward(b, name + ".ff", dim: dim)
    }

    /// `x [N, L, dim]`, `context [N, Lc, contextDim]` → `[N, L, dim]`
    func callAsFunction(_ x: Tensor, context: Tensor) -> Tensor {
        var h = attn1(norm1(x)) + x
        h = attn2(norm2(h), context: context) + h
        return ff(norm3(h)) + h
    }
}

/// diffusers' `Transformer2DModel` on a feature map (the "continuous input" form): group norm
/// (ε = 10⁻⁶), a projection in — a 1×1 convolution (SD 1.x) or, with `use_linear_projection`,
/// a linear layer on the tokens (SD 2.x) —, transformer blocks over the H·W tokens, a projection
/// out of the same kind, and a residual.
struct Transformer2D {
    enum Projection {
        case conv(Conv2dLayer)
        case linear(LinearLayer)
    }

    let norm: GroupNormLayer
    let projIn: Projection, projOut: Projection
    let blocks: [BasicTransformerBlock]
    let inner: Int

    init(_ b: ParameterBuilder, _ name: String, channels: Int, heads: Int, layers: Int, contextDim: Int,
         groups: Int, linearProjection: Bool) {
        let headDim = channels / heads, inner = heads * headDim
        self.inner = inner
        norm = GroupNormLayer(b, name + ".norm", groups: groups, channels: channels, eps: 1e-6)
        projIn = linearProjection ? .linear(LinearLayer(b, name + ".proj_in", in: channels, out: inner))
                                  : .conv(Conv2dLayer(b, name + ".proj_in", in: channels, out: inner, kernel: 1))
        blocks = (0..<layers).map { i in
            BasicTransformerBlock(b, "\(name).transformer_blocks.\(i)", dim: inner, heads: heads, headDim: headDim,
                                  contextDim: contextDim)
        }
        projOut = linearProjection ? .linear(LinearLayer(b, name + ".proj_out", in: inner, out: channels))
                                   : .conv(Conv2dLayer(b, name + ".proj_out", in: inner, out: channels, kernel: 1))
    }

    /// `x [N, C, H, W]`, `context [N, Lc, contextDim]` → `[N, C, H, W]`
    func callAsFunction(_ x: Tensor, context: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func tokens(_ t: Tensor) -> Tensor {                                   // [N, F, H, W] → [N, H·W, F]
            t.reshaped([n, t.shape[1], h * w]).permuted([0, 2, 1])
        }
        func map(_ t: Tensor, _ f: Int) -> Tensor {                             // [N, H·W, F] → [N, F, H, W]
            t.permuted([0, 2, 1]).reshaped([n, f, h, w])
        }
        var hidden: Tensor                                                      // [N, H·W, inner]
        switch projIn {
        case .conv(let conv): hidden = tokens(conv(norm(x)))
        case .linear(let linear): hidden = linear(tokens(norm(x)))
        }
        for block in blocks { hidden = block(hidden, context: context) }
        switch projOut {
        case .conv(let conv): return conv(map(hidden, inner)) + x
        case .linear(let linear): return map(linear(hidden), c) + x
        }
    }
}
