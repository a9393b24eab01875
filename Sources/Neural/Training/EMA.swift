import Linear

/// An exponential moving average of parameters, e ← d·e + (1 − d)·p after each optimiser step, as used for
/// diffusion-model sampling weights. Optionally with the warm-up d_t = min(decay, (1 + t)/(10 + t)).
public final class ExponentialMovingAverage<Scalar: BLASScalar> {
    public let parameters: [Variable<Scalar>]
    public var decay: Double
    public let warmup: Bool
    /// The averaged values, one per parameter.
    public private(set) var shadow: [Tensor<Scalar>]
    public private(set) var updates = 0

    public init(parameters: [Variable<Scalar>], decay: Double = 0.999, warmup: Bool = false) {
        self.parameters = parameters
        self.decay = decay
        self.warmup = warmup
        shadow = parameters.map(\.value)
    }

    /// The decay used by the next update.
    public var currentDecay: Double {
        warmup ? Swift.min(decay, Double(1 + updates) / Double(10 + updates)) : decay
    }

    /// Folds the current parameter values into the average.
    public func update() {
        let d = currentDecay
        for i in parameters.indices {
            var e = shadow[i]
            shadow[i] = Tensor(scalar: 0)
            AutogradKernels.emaUpdate(&e, parameters[i].value, decay: d)
            shadow[i] = e
        }
        updates += 1
    }

    /// Writes the averaged values into the parameters (e.g. before sampling or saving).
    public func copyToParameters() {
        for (p, e) in zip(parameters, shadow) { p.value = e }
    }

    /// Runs `body` with the averaged values in the parameters, then restores the trained values.
    public func withAveragedParameters<R>(_ body: () throws -> R) rethrows -> R {
        let saved = parameters.map(\.value)
        copyToParameters()
        defer { for (p, v) in zip(parameters, saved) { p.value = v } }
        return try body()
    }
}
