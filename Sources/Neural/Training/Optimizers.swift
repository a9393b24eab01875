import Linear

/// Updates parameters from their accumulated gradients. Parameters without a gradient are skipped.
public protocol Optimizer<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    /// The parameters updated, in a fixed order.
    var parameters: [Variable<Scalar>] { get }
    /// The step size; schedules assign it before each step.
    var learningRate: Double { get set }
    /// Applies one update from the current gradients.
    func step() throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

func checkGradient<S>(_ p: Variable<S>, _ g: Tensor<S>, _ name: String) throws {
    guard g.shape == p.shape else {
        throw TensorError.shapeMismatch(operation: "\(name): gradient and parameter shapes differ", lhs: g.shape, rhs: p.shape)
    }
}

/// Stochastic gradient descent with optional momentum μ (Nesterov or heavy-ball), and L2 weight decay λ
/// (PyTorch `optim.SGD`, dampening 0): g ← ∇ + λp; b ← μb + g; p ← p − lr·(g + μb if Nesterov else b).
public final class SGD<Scalar: BLASScalar>: Optimizer {
    public let parameters: [Variable<Scalar>]
    public var learningRate: Double
    public var momentum: Double
    public var nesterov: Bool
    public var weightDecay: Double
    var buffers: [Tensor<Scalar>?]

    public init(parameters: [Variable<Scalar>], learningRate: Double, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() throws {
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            try checkGradient(p, g, "SGD")
            var buffer = buffers[i]
            let first = buffer == nil
            if momentum > 0 && first { buffer = AutogradKernels.full(p.shape, 0) }
            buffers[i] = nil
            AutogradKernels.sgdUpdate(&p.value, g, &buffer, lr: learningRate, momentum: momentum, nesterov: nesterov,
                              weightDecay: weightDecay, firstStep: first)
            buffers[i] = buffer
        }
    }
}

/// Adam (Kingma & Ba 2015) with bias correction; with `decoupledWeightDecay` it is AdamW (Loshchilov & Hutter
/// 2019): p ← p − lr·λ·p before the Adam step, instead of adding λp to the gradient.
///
/// The moments of all parameters live in two flat buffers (parameter i at `offsets[i]..<offsets[i + 1]`), and a step
/// is one fused pass over all of them (`AutogradKernels.adamUpdateFlat`, split across threads by element count, not by
/// parameter): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p·(1 − lr·λ) − lr·(m/c₁)/(√(v/c₂) + ε), with c₁ = 1 − β₁ᵗ,
/// c₂ = 1 − β₂ᵗ per parameter. The state is still exported and imported per parameter (`state`, `load(state:)`).
public class Adam<Scalar: BLASScalar>: Optimizer {
    public let parameters: [Variable<Scalar>]
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    public let decoupledWeightDecay: Bool
    /// Steps taken (for bias correction).
    public private(set) var stepCount = 0
    /// First and second moments, flat: parameter i at offsets[i]..<offsets[i + 1].
    var m: Tensor<Scalar>
    var v: Tensor<Scalar>
    let offsets: [Int]
    var steps: [Int]
    /// Whether some parameter is listed twice (its buffer is then opened once per update, one segment at a time).
    let repeatsParameter: Bool

    public init(parameters: [Variable<Scalar>], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        var o = [0]
        for p in parameters { o.append(o.last! + p.count) }
        offsets = o
        m = AutogradKernels.full([o.last!], 0)
        v = AutogradKernels.full([o.last!], 0)
        steps = Array(repeating: 0, count: parameters.count)
        repeatsParameter = Set(parameters.map(ObjectIdentifier.init)).count != parameters.count
    }

    public func step() throws {
        stepCount += 1
        var segments: [AutogradKernels.AdamSegment] = []
        segments.reserveCapacity(parameters.count)
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            try checkGradient(p, g, decoupledWeightDecay ? "AdamW" : "Adam")
            steps[i] += 1
            let t = Double(steps[i])
            segments.append(AutogradKernels.AdamSegment(index: i, offset: offsets[i], c1: 1 - _pow(beta1, t), c2: 1 - _pow(beta2, t)))
        }
        guard !segments.isEmpty else { return }
        for part in repeatsParameter ? segments.map { [$0] } : [segments] {
            AutogradKernels.adamUpdateFlat(parameters, part, &m, &v, lr: learningRate, beta1: beta1, beta2: beta2, eps: epsilon,
                                   l2: decoupledWeightDecay ? 0 : weightDecay, decoupled: decoupledWeightDecay ? weightDecay : 0)
        }
    }

    /// The optimiser's state: first and second moments m, v (one tensor per parameter, in `parameters` order), the
    /// per-parameter step counts t used for bias correction (1 − β₁ᵗ, 1 − β₂ᵗ), and `stepCount`. Saving it with
    /// the weights and restoring it with `load(state:)` makes a resumed run take exactly the updates an
    /// uninterrupted one would.
    public struct State: Sendable {
        public var firstMoments: [Tensor<Scalar>]
        public var secondMoments: [Tensor<Scalar>]
        public var parameterSteps: [Int]
        public var stepCount: Int
        public init(firstMoments: [Tensor<Scalar>], secondMoments: [Tensor<Scalar>], parameterSteps: [Int], stepCount: Int) {
            self.firstMoments = firstMoments; self.secondMoments = secondMoments
            self.parameterSteps = parameterSteps; self.stepCount = stepCount
        }
    }

    /// A copy of the current state: the moments cut per parameter out of the flat buffers.
    public var state: State {
        func split(_ flat: Tensor<Scalar>) -> [Tensor<Scalar>] {
            flat.withUnsafeBufferPointer { src in
                parameters.enumerated().map { i, p in
                    Tensor<Scalar>(unsafeUninitializedShape: p.shape) { d, n in d.update(from: src.baseAddress! + offsets[i], count: n) }
                }
            }
        }
        return State(firstMoments: split(m), secondMoments: split(v), parameterSteps: steps, stepCount: stepCount)
    }

    /// Replaces the state (moments, step counts) by `s`.
    /// - Throws: `ModelStateError` when the counts or any moment's shape differ from the parameters'.
    public func load(state s: State) throws {
        let n = parameters.count
        guard s.firstMoments.count == n, s.secondMoments.count == n, s.parameterSteps.count == n, s.stepCount >= 0 else {
            throw ModelStateError(reason: "Adam state: \(s.firstMoments.count)/\(s.secondMoments.count) moments and \(s.parameterSteps.count) step counts for \(n) parameters")
        }
        for (i, p) in parameters.enumerated() where s.firstMoments[i].shape != p.shape || s.secondMoments[i].shape != p.shape {
            throw ModelStateError(reason: "Adam state: moments of parameter \(i) have shapes \(s.firstMoments[i].shape), \(s.secondMoments[i].shape); the parameter is \(p.shape)")
        }
        func join(_ parts: [Tensor<Scalar>], into flat: inout Tensor<Scalar>) {
            flat.withUnsafeMutableBufferPointer { dst in
                for (i, t) in parts.enumerated() {
                    t.withUnsafeBufferPointer { src in (dst.baseAddress! + offsets[i]).update(from: src.baseAddress!, count: src.count) }
                }
            }
        }
        join(s.firstMoments, into: &m)
        join(s.secondMoments, into: &v)
        steps = s.parameterSteps
        stepCount = s.stepCount
    }
}

/// AdamW: Adam with decoupled weight decay (default λ = 0.01, as in PyTorch).
public final class AdamW<Scalar: BLASScalar>: Adam<Scalar> {
    public init(parameters: [Variable<Scalar>], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
        super.init(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}

import Foundation
func _pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }

/// Scales all gradients together so their global L2 norm is at most `maxNorm` (PyTorch `clip_grad_norm_`),
/// and returns the norm before clipping. Parameters without gradients are ignored.
@discardableResult
public func clipGradientNorm<S>(_ parameters: [Variable<S>], maxNorm: Double) -> Double {
    var total = 0.0
    for p in parameters { if let g = p.grad { total += AutogradKernels.sumOfSquares(g) } }
    let norm = total.squareRoot()
    if norm > maxNorm && norm > 0 {
        let scale = S(maxNorm / (norm + 1e-6))
        for p in parameters where p.grad != nil {
            var g = p.grad!
            p.grad = nil
            AutogradKernels.scaleInPlace(&g, scale)
            p.grad = g
        }
    }
    return norm
}
