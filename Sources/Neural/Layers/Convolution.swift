import Linear

/// A 2-D convolution layer over [n, c, h, w] (PyTorch `nn.Conv2d`): weight [out, in, k, k], bias [out],
/// computed as im2col + one gemm.
public final class Conv2d<Scalar: BLASScalar>: ModuleBase, Layer {
    public let weight: Variable<Scalar>
    public let bias: Variable<Scalar>?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                initialization: Initialization = .pytorchDefault, using g: inout RandomGenerator) {
        let fanIn = inChannels * kernel * kernel
        weight = parameter(initialization.weight([outChannels, inChannels, kernel, kernel], fanIn: fanIn,
                                                 fanOut: outChannels * kernel * kernel, using: &g))
        self.bias = bias ? parameter(initialization.bias(outChannels, fanIn: fanIn, using: &g)) : nil
        self.stride = stride
        self.padding = padding
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// A transposed 2-D convolution layer (PyTorch `nn.ConvTranspose2d`): weight [in, out, k, k], bias [out].
/// Upsamples in decoders: h → (h − 1)·stride − 2·padding + k + outputPadding.
public final class ConvTranspose2d<Scalar: BLASScalar>: ModuleBase, Layer {
    public let weight: Variable<Scalar>
    public let bias: Variable<Scalar>?
    public let stride: Int
    public let padding: Int
    public let outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                bias: Bool = true, initialization: Initialization = .pytorchDefault, using g: inout RandomGenerator) {
        let fanIn = outChannels * kernel * kernel   // PyTorch computes fan-in from weight.shape[1]·k·k
        weight = parameter(initialization.weight([inChannels, outChannels, kernel, kernel], fanIn: fanIn,
                                                 fanOut: inChannels * kernel * kernel, using: &g))
        self.bias = bias ? parameter(initialization.bias(outChannels, fanIn: fanIn, using: &g)) : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }
    public func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        try convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}
