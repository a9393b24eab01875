import Foundation
import Linear

/// A lookup table of `count` vectors of `dimension` entries, initialised N(0, 1) (PyTorch `nn.Embedding`).
public final class Embedding<Scalar: BLASScalar>: ModuleBase, Module {
    public let weight: Variable<Scalar>
    public init(count: Int, dimension: Int, using g: inout RandomGenerator) {
        weight = parameter(AutogradKernels.normal([count, dimension], std: 1, using: &g))
    }
    /// The rows for `indices` → [indices.count, dimension].
    public func callAsFunction(_ indices: [Int]) throws -> Variable<Scalar> {
        for i in indices where i < 0 || i >= weight.shape[0] {
            throw ConfigurationError(field: "Embedding.callAsFunction(_:)", reason: "Embedding: index \(i) is out of range 0..<\(weight.shape[0])")
        }
        return try weight.gather(rows: indices)
    }
}

/// The sinusoidal embedding of (possibly fractional) timesteps t [n] → [n, dimension]: the first half of the
/// features are cos(t·fᵢ), the second half sin(t·fᵢ), with fᵢ = maxPeriod^(−i/half), i < half = dimension/2
/// (the DDPM/DiT convention). An odd dimension gets a trailing zero column. Differentiable in t.
public func sinusoidalEmbedding<S: BLASScalar>(_ t: Variable<S>, dimension: Int, maxPeriod: Double = 10_000) throws -> Variable<S> {
    guard t.rank == 1 else { throw TensorError.invalidShape("sinusoidalEmbedding: expected timesteps [n], got shape \(t.shape)") }
    let half = dimension / 2
    let freqs = try Tensor<S>((0..<half).map { S(Foundation.exp(-Foundation.log(maxPeriod) * Double($0) / Double(half))) }, shape: [1, half])
    let args = try t.reshaped([t.count, 1]) * freqs
    var parts = [args.cos(), args.sin()]
    if dimension % 2 == 1 { parts.append(Variable(AutogradKernels.full([t.count, 1], 0))) }
    return try Variable.concatenate(parts, axis: 1)
}

/// The diffusion-timestep embedder of DiT: sinusoidal features → Dense → SiLU → Dense.
public final class TimestepEmbedding<Scalar: BLASScalar>: ModuleBase, Layer {
    public let frequencyDimension: Int
    public let linear1: Dense<Scalar>
    public let linear2: Dense<Scalar>
    public init(dimension: Int, frequencyDimension: Int = 256, using g: inout RandomGenerator) {
        self.frequencyDimension = frequencyDimension
        linear1 = Dense(frequencyDimension, dimension, using: &g)
        linear2 = Dense(dimension, dimension, using: &g)
    }
    /// t [n] → [n, dimension].
    public func callAsFunction(_ t: Variable<Scalar>) throws -> Variable<Scalar> {
        try linear2(linear1(sinusoidalEmbedding(t, dimension: frequencyDimension), activation: .silu))
    }
}
