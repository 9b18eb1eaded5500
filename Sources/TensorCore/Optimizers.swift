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

    /// Elements per parallel block of an update (parameters of two blocks or more are split across
    /// workers).
    static let parallelBlock = 32_768

    /// The update of elements `range`, eight lanes at a time (the scalar loop did not vectorise:
    /// a square root and a division per element, one at a time) and the tail one by one; every
    /// lane does the scalar arithmetic in the same order, so the bits are the same.
    @inline(__always)
    static func update(x: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                       v: UnsafeMutablePointer<Float>, range: Range<Int>, lr: Float, b1: Float, b2: Float,
                       bc1: Float, bc2: Float, eps: Float, wd: Float, decoupled: Bool) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>, _ i: Int) -> V { UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ value: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
            UnsafeMutableRawPointer(p + i).storeBytes(of: value, as: V.self)
        }
        var i = range.lowerBound
        while i &+ 8 <= range.upperBound {
            var gi = load(g, i), xi = load(x, i)
            if !decoupled { gi += wd * xi }
            let mi = b1 * load(m, i) + (1 - b1) * gi
            let vi = b2 * load(v, i) + (1 - b2) * gi * gi
            store(mi, m, i); store(vi, v, i)
            let update = (mi / bc1) / ((vi / bc2).squareRoot() + eps)
            if decoupled { xi -= lr * wd * xi }
            xi -= lr * update
            store(xi, x, i)
            i &+= 8
        }
        while i < range.upperBound {
            var gi = g[i]
            if !decoupled { gi += wd * x[i] }
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            let update = (m[i] / bc1) / ((v[i] / bc2).squareRoot() + eps)
            if decoupled { x[i] -= lr * wd * x[i] }
            x[i] -= lr * update
            i &+= 1
        }
    }

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
            let n = p.count, block = Adam.parallelBlock
            p.data.withUnsafeMutableBufferPointer { x in g.withUnsafeBufferPointer { g in
            mm.withUnsafeMutableBufferPointer { mm in vv.withUnsafeMutableBufferPointer { vv in
                guard n > 0 else { return }                            // an empty parameter has no buffers
                nonisolated(unsafe) let x = x.baseAddress!, g = g.baseAddress!, mm = mm.baseAddress!, vv = vv.baseAddress!
                // Elementwise, so any split gives the same bits: large parameters in parallel blocks.
                Parallel.forEach((n + block - 1) / block) { j in
                    let lo = j &* block, hi = Swift.min(n, lo &+ block)
                    Adam.update(x: x, g: g, m: mm, v: vv, range: lo..<hi, lr: lr, b1: b1, b2: b2, bc1: bc1, bc2: bc2,
                                eps: eps, wd: wd, decoupled: decoupled)
                }
            }}}}
            m[name] = mm
            v[name] = vv
            p.grad = nil
        }
    }
}
