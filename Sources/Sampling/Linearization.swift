import TensorCore
import Diffreps

/// The render's Jacobian `J` (all views stacked) at the current parameters, applied as `Jᵀ·u`
/// (reverse mode) and `Jᵀ·J·v` (forward then reverse mode) without ever forming it.
struct Linearization<R: Diffrep> {
    let diffrep: R
    let views: [R.View]

    /// `Jᵀ·u` for `u` shaped like the stacked renders `[K, C, H, W]`.
    func vjp(_ u: [Float]) -> ParameterVector {
        let params = diffrep.parameters
        params.zeroGrad()
        let out = diffrep.render(views)
        out.backward(seed: u)
        defer { params.zeroGrad() }
        return ParameterVector(gradientsOf: params)
    }

    /// `Jᵀ·J·v` in one render: forward mode gives `J·v`, reverse mode through the same graph
    /// gives `Jᵀ` of it.
    func gaussNewton(_ v: ParameterVector) -> ParameterVector {
        let params = diffrep.parameters
        params.zeroGrad()
        for (t, d) in zip(params.tensors, v.parts) { t.tangent = d }
        let out = diffrep.render(views)
        for t in params.tensors { t.tangent = nil }
        let jv = out.tangent ?? [Float](repeating: 0, count: out.count)
        out.backward(seed: jv)
        defer { params.zeroGrad() }
        return ParameterVector(gradientsOf: params)
    }
}
