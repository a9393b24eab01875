import Linear

/// A fully connected layer y = x·Wᵀ + b with W [out, in] (PyTorch `nn.Linear`); x may have batch axes.
/// The bias is added inside the gemm.
public final class Dense<Scalar: BLASScalar>: ModuleBase, Layer {
    public let weight: Variable<Scalar>
    public let bias: Variable<Scalar>?
    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    /// A layer from `inputSize` to `outputSize` features, initialised by `initialization`.
    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, initialization: Initialization = .pytorchDefault,
                using g: inout RandomGenerator) {
        weight = parameter(initialization.weight([outputSize, inputSize], fanIn: inputSize, fanOut: outputSize, using: &g))
        self.bias = bias ? parameter(initialization.bias(outputSize, fanIn: inputSize, using: &g)) : nil
    }

    /// A layer with the given weight [out, in] and bias [out].
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        self.weight = parameter(weight)
        self.bias = bias.map { parameter($0) }
    }

    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        try linear(x, weight: weight, bias: bias)
    }

    /// f(x·Wᵀ + b) with the activation fused into the layer's kernels (see `linear(_:weight:bias:activation:)`):
    /// the same values and gradients as `activation.apply(self(x))`, in fewer passes and one tape node.
    public func callAsFunction(_ x: Variable<Scalar>, activation: ActivationFunction) throws -> Variable<Scalar> {
        try linear(x, weight: weight, bias: bias, activation: activation)
    }
}

/// Element-wise activation functions.
public enum ActivationFunction: String, Sendable, CaseIterable {
    case identity, relu, silu, gelu, tanh, sigmoid, softplus

    /// f(x).
    public func apply<S>(_ x: Variable<S>) -> Variable<S> {
        switch self {
        case .identity: return x
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .gelu: return x.gelu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .softplus: return x.softplus()
        }
    }

    /// The kernel that fuses this activation into a dense layer, or nil when it has none.
    var fusedKernel: AutogradKernels.FusedActivation? {
        switch self {
        case .silu: return .silu
        case .gelu: return .gelu
        case .relu: return .relu
        default: return nil
        }
    }
}

/// An activation as a layer (for `Sequential`).
public final class Activation<Scalar: BLASScalar>: ModuleBase, Layer {
    public let function: ActivationFunction
    public init(_ function: ActivationFunction) { self.function = function }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> { function.apply(x) }
}

/// Layers applied in order; children are named "0", "1", … (as in PyTorch `nn.Sequential`, hence the explicit
/// `children` instead of the reflected `layers.0`, …).
public final class Sequential<Scalar: BLASScalar>: ModuleBase, Layer {
    public let layers: [any Layer<Scalar>]
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }
    public var children: [(String, any Module<Scalar>)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        var h = x
        for l in layers { h = try l(h) }
        return h
    }
}

/// A multilayer perceptron: Dense layers of the given sizes with an activation between them (and optionally
/// after the last). Parameters are named `layers.0.weight`, `layers.0.bias`, `layers.1.weight`, ….
public final class MLP<Scalar: BLASScalar>: ModuleBase, Layer {
    public let layers: [Dense<Scalar>]
    public let activation: ActivationFunction
    public let activateLast: Bool

    /// - Parameter sizes: input size, hidden sizes…, output size (at least two entries).
    public init(sizes: [Int], activation: ActivationFunction = .silu, activateLast: Bool = false,
                initialization: Initialization = .pytorchDefault, using g: inout RandomGenerator) {
        precondition(sizes.count >= 2, "MLP: sizes needs an input and an output size, got \(sizes)")
        var ls: [Dense<Scalar>] = []
        for i in 0..<(sizes.count - 1) { ls.append(Dense(sizes[i], sizes[i + 1], initialization: initialization, using: &g)) }
        layers = ls
        self.activation = activation
        self.activateLast = activateLast
    }

    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        var h = x
        for (i, l) in layers.enumerated() {
            h = try i < layers.count - 1 || activateLast ? l(h, activation: activation) : l(h)
        }
        return h
    }
}
