import Linear

/// Layer normalisation over the last axis with learnable γ (ones) and β (zeros) (PyTorch `nn.LayerNorm`).
public final class LayerNorm<Scalar: BLASScalar>: ModuleBase, Layer {
    public let weight: Variable<Scalar>?
    public let bias: Variable<Scalar>?
    public let epsilon: Scalar

    /// - Parameter affine: learn γ and β (false for the parameter-free norm of AdaLN-Zero blocks).
    public init(_ dimension: Int, epsilon: Scalar = 1e-5, affine: Bool = true) {
        weight = affine ? parameter(AutogradKernels.full([dimension], 1)) : nil
        bias = affine ? parameter(AutogradKernels.full([dimension], 0)) : nil
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        try x.layerNorm(weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// RMS normalisation over the last axis with learnable γ (ones).
public final class RMSNorm<Scalar: BLASScalar>: ModuleBase, Layer {
    public let weight: Variable<Scalar>
    public let epsilon: Scalar
    public init(_ dimension: Int, epsilon: Scalar = 1e-6) {
        weight = parameter(AutogradKernels.full([dimension], 1))
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> { try x.rmsNorm(weight: weight, epsilon: epsilon) }
}

/// Group normalisation of [n, c, …] with per-channel γ (ones) and β (zeros) (PyTorch `nn.GroupNorm`).
public final class GroupNorm<Scalar: BLASScalar>: ModuleBase, Layer {
    public let groups: Int
    public let weight: Variable<Scalar>
    public let bias: Variable<Scalar>
    public let epsilon: Scalar
    public init(groups: Int, channels: Int, epsilon: Scalar = 1e-5) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(groups) groups do not divide \(channels) channels")
        self.groups = groups
        weight = parameter(AutogradKernels.full([channels], 1))
        bias = parameter(AutogradKernels.full([channels], 0))
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        try x.groupNorm(groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// Inverted dropout: in training mode each element is zeroed with probability p and the rest scaled by
/// 1/(1 − p); in eval mode the identity. The mask comes from the layer's own seeded generator.
public final class Dropout<Scalar: BLASScalar>: ModuleBase, Layer {
    public let probability: Double
    public var generator: RandomGenerator
    public init(_ probability: Double, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = RandomGenerator(seed: seed)
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        guard isTraining, probability > 0 else { return x }
        let mask: Tensor<Scalar> = AutogradKernels.dropoutMask(x.shape, p: probability, using: &generator)
        return try x * mask
    }
}
