import TensorCore

// Loading named weights into a model's parameters, shared by ``UNet2D``, ``UNet2DCondition``
// and ``CLIPTextModel``.

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
