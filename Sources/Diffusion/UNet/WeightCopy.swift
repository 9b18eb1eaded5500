import TensorCore

// Loading named weights into a model's parameters, shared by every model this package loads.

/// Copies `weights` into `parameters` by name: every parameter must be there with its shape
/// (extents of 1 aside), none may be left over. Errors name `source` and the tensor.
func copyWeights(_ weights: [(name: String, tensor: Tensor)], into parameters: Parameters, source: String,
                 rename: (String) -> String = { $0 }) throws {
    var byName: [String: Tensor] = [:]
    for (name, t) in weights { byName[rename(name)] = t }
    for (name, p) in parameters {
        guard let t = byName.removeValue(forKey: name) else { throw UNetLoadError.missingTensor(source, name) }
        guard t.count == p.count, t.shape.filter({ $0 != 1 }) == p.shape.filter({ $0 != 1 }) else {
            throw UNetLoadError.shapeMismatch(source, name, expected: p.shape, found: t.shape)
        }
        p.data = t.data
    }
    if let extra = byName.keys.sorted().first { throw UNetLoadError.unexpectedTensor(source, extra) }
}

/// The attention weights' names from diffusers before 0.14 (`query`, `key`, `value`, `proj_attn`,
/// still in released SD 1.x `vae/` files and old `UNet2DModel` checkpoints) as today's
/// (`to_q`, `to_k`, `to_v`, `to_out.0`); any other name unchanged.
///
/// ```swift
/// currentAttentionName("mid_block.attentions.0.query.weight")   // "mid_block.attentions.0.to_q.weight"
/// ```
func currentAttentionName(_ name: String) -> String {
    guard name.contains(".attentions.") else { return name }
    for (old, new) in [(".query.", ".to_q."), (".key.", ".to_k."), (".value.", ".to_v."), (".proj_attn.", ".to_out.0.")]
    where name.contains(old) {
        return name.replacingOccurrences(of: old, with: new)
    }
    return name
}
