import Linear

/// Weight initialisation schemes. fan_in/fan_out are the input/output sizes of a dense layer (times k² for a
/// k×k convolution).
public enum Initialization: Sendable {
    /// PyTorch's default for `Linear`/`Conv2d`: weight and bias U(±1/√fan_in).
    case pytorchDefault
    /// He/Kaiming normal for ReLU-like activations: N(0, 2/fan_in); zero bias.
    case kaimingNormal
    /// He/Kaiming uniform: U(±√(6/fan_in)); zero bias.
    case kaimingUniform
    /// Glorot/Xavier uniform: U(±√(6/(fan_in + fan_out))); zero bias.
    case xavierUniform
    /// Glorot/Xavier normal: N(0, 2/(fan_in + fan_out)); zero bias.
    case xavierNormal
    /// All zeros (AdaLN-Zero modulation, zero-initialised output layers).
    case zeros

    /// A weight tensor of `shape` for the given fans.
    public func weight<S: BLASScalar>(_ shape: [Int], fanIn: Int, fanOut: Int, using g: inout RandomGenerator) -> Tensor<S> {
        let fi = Double(Swift.max(fanIn, 1)), fo = Double(Swift.max(fanOut, 1))
        switch self {
        case .pytorchDefault: return AutogradKernels.uniform(shape, bound: 1 / fi.squareRoot(), using: &g)
        case .kaimingNormal: return AutogradKernels.normal(shape, std: (2 / fi).squareRoot(), using: &g)
        case .kaimingUniform: return AutogradKernels.uniform(shape, bound: (6 / fi).squareRoot(), using: &g)
        case .xavierUniform: return AutogradKernels.uniform(shape, bound: (6 / (fi + fo)).squareRoot(), using: &g)
        case .xavierNormal: return AutogradKernels.normal(shape, std: (2 / (fi + fo)).squareRoot(), using: &g)
        case .zeros: return AutogradKernels.full(shape, 0)
        }
    }

    /// A bias vector of `count` entries.
    public func bias<S: BLASScalar>(_ count: Int, fanIn: Int, using g: inout RandomGenerator) -> Tensor<S> {
        if case .pytorchDefault = self { return AutogradKernels.uniform([count], bound: 1 / Double(Swift.max(fanIn, 1)).squareRoot(), using: &g) }
        return AutogradKernels.full([count], 0)
    }
}

/// A parameter: a leaf that requires gradients.
func parameter<S: BLASScalar>(_ t: Tensor<S>) -> Variable<S> { Variable(t, requiresGrad: true) }
