import Foundation

/// Updates parameters in place from their accumulated gradients.
public protocol Optimizer {
    /// Applies one update to every parameter that has a gradient, then clears gradients.
    mutating func step()
}

/// Plain (optionally momentum) stochastic gradient descent: `θ ← θ − lr·(g + wd·θ)`.
///
/// ```swift
/// var opt = SGD(parameters: params, learningRate: 0.1)
/// loss.backward(); opt.step()
/// ```
public struct SGD: Optimizer {
    public let parameters: Parameters
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    private var velocity: [String: [Float]] = [:]

    public init(parameters: Parameters, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public mutating func step() {
        for (name, p) in parameters {
            guard let g = p.grad else { continue }
            var v = velocity[name] ?? [Float](repeating: 0, count: p.count)
            for i in 0..<p.count {
                let gi = g[i] + weightDecay * p.data[i]
                v[i] = momentum * v[i] + gi
                p.data[i] -= learningRate * v[i]
            }
            if momentum != 0 { velocity[name] = v }
            p.grad = nil
        }
    }
}

/// Adam (Kingma & Ba 2015), or AdamW when `decoupledWeightDecay` is set
/// (Loshchilov & Hutter 2019: `θ ← θ − lr·wd·θ` applied apart from the adaptive step).
///
/// ```swift
/// var opt = Adam(parameters: params, learningRate: 1e-3)
/// for _ in 0..<100 { loss().backward(); opt.step() }
/// ```
public struct Adam: Optimizer {
    public let parameters: Parameters
    public var learningRate: Float
    public var beta1: Float, beta2: Float, epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    /// Steps taken so far (bias correction uses it; checkpoints save it).
    public private(set) var stepCount = 0
    /// First and second moment estimates by parameter name (checkpoints save them).
    public var m: [String: [Float]] = [:], v: [String: [Float]] = [:]
    /// Per-parameter multipliers of ``learningRate`` (and of the decoupled decay), by name; absent = 1.
    /// For parameters that must move far and see few gradients, like embedding rows.
    public var learningRateScale: [String: Float] = [:]

    public init(parameters: Parameters, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with the usual defaults (`weightDecay` 0.01).
    public static func adamW(parameters: Parameters, learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// Restores the step count (resuming from a checkpoint).
    public mutating func restore(stepCount: Int) { self.stepCount = stepCount }

    public mutating func step() {
        stepCount += 1
        let bc1 = 1 - Foundation.pow(beta1, Float(stepCount))
        let bc2 = 1 - Foundation.pow(beta2, Float(stepCount))
        for (name, p) in parameters {
            guard let g = p.grad else { continue }
            // Taken out of the dictionaries while updated, so they are updated in place, not copied.
            var mm = m.removeValue(forKey: name) ?? [Float](repeating: 0, count: p.count)
            var vv = v.removeValue(forKey: name) ?? [Float](repeating: 0, count: p.count)
            let lr = learningRate * (learningRateScale[name] ?? 1), b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay, decoupled = decoupledWeightDecay
            p.data.withUnsafeMutableBufferPointer { x in g.withUnsafeBufferPointer { g in
            mm.withUnsafeMutableBufferPointer { mm in vv.withUnsafeMutableBufferPointer { vv in
                for i in 0..<x.count {                                 // pointers: the loop vectorises
                    var gi = g[i]
                    if !decoupled { gi += wd * x[i] }
                    mm[i] = b1 * mm[i] + (1 - b1) * gi
                    vv[i] = b2 * vv[i] + (1 - b2) * gi * gi
                    let update = (mm[i] / bc1) / ((vv[i] / bc2).squareRoot() + eps)
                    if decoupled { x[i] -= lr * wd * x[i] }
                    x[i] -= lr * update
                }
            }}}}
            m[name] = mm
            v[name] = vv
            p.grad = nil
        }
    }
}
