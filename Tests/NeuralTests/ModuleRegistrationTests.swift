import Linear
@testable import Neural
import Testing
import TestSupport

/// Parameters are declared once, as stored properties; the listing that optimisers, EMA and checkpoints use comes
/// from them. These tests fail for any layer holding a parameter the optimiser would not see.
@Suite("Module registration: every parameter is seen")
struct ModuleRegistrationTests {
    /// One instance of every layer of the Neural module, in both configurations where a flag changes its parameters.
    static func everyLayer() -> [(String, any Module<Double>)] {
        var g = RandomGenerator(seed: 5)
        return [
            ("Dense", Dense<Double>(4, 3, using: &g)),
            ("Dense(bias: false)", Dense<Double>(4, 3, bias: false, using: &g)),
            ("Activation", Activation<Double>(.silu)),
            ("Sequential", Sequential<Double>([Dense<Double>(4, 3, using: &g), Activation<Double>(.relu), Dense<Double>(3, 2, using: &g)])),
            ("MLP", MLP<Double>(sizes: [4, 8, 8, 2], using: &g)),
            ("ResidualMLPBlock", ResidualMLPBlock<Double>(dimension: 4, hidden: 8, using: &g)),
            ("AdaLNZero", AdaLNZero<Double>(conditionDimension: 3, dimension: 4, using: &g)),
            ("DiTBlock", DiTBlock<Double>(dimension: 8, heads: 2, conditionDimension: 4, using: &g)),
            ("Embedding", Embedding<Double>(count: 5, dimension: 3, using: &g)),
            ("TimestepEmbedding", TimestepEmbedding<Double>(dimension: 8, frequencyDimension: 16, using: &g)),
            ("MultiHeadAttention", MultiHeadAttention<Double>(dimension: 8, heads: 2, using: &g)),
            ("MultiHeadAttention(context)", MultiHeadAttention<Double>(dimension: 8, heads: 2, contextDimension: 6, using: &g)),
            ("Conv2d", Conv2d<Double>(2, 3, kernel: 3, using: &g)),
            ("ConvTranspose2d", ConvTranspose2d<Double>(2, 3, kernel: 3, using: &g)),
            ("LayerNorm", LayerNorm<Double>(4)),
            ("LayerNorm(affine: false)", LayerNorm<Double>(4, affine: false)),
            ("RMSNorm", RMSNorm<Double>(4)),
            ("GroupNorm", GroupNorm<Double>(groups: 2, channels: 4)),
            ("Dropout", Dropout<Double>(0.1)),
        ]
    }

    @Test("every Variable a layer holds is in namedParameters()", arguments: everyLayer().map(\.0))
    func everyParameterRegistered(_ name: String) throws {
        let layer = try #require(Self.everyLayer().first { $0.0 == name }?.1)
        #expect(layer.unregisteredParameters().isEmpty, "\(name) holds parameters the optimiser would not see: \(layer.unregisteredParameters())")
        let names = layer.namedParameters().map(\.name)
        #expect(Set(names).count == names.count, "\(name) lists a parameter name twice: \(names)")
    }

    @Test("parameter names follow PyTorch's state_dict")
    func namesAsInPyTorch() {
        var g = RandomGenerator(seed: 1)
        #expect(Dense<Double>(4, 3, using: &g).namedParameters().map(\.name) == ["weight", "bias"])
        #expect(Dense<Double>(4, 3, bias: false, using: &g).namedParameters().map(\.name) == ["weight"])
        #expect(MLP<Double>(sizes: [2, 3, 1], using: &g).namedParameters().map(\.name)
                == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        let seq = Sequential<Double>([Dense<Double>(2, 3, using: &g), Activation<Double>(.relu), Dense<Double>(3, 1, using: &g)])
        #expect(seq.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(LayerNorm<Double>(4, affine: false).namedParameters().isEmpty)
        let block = DiTBlock<Double>(dimension: 8, heads: 2, conditionDimension: 4, using: &g)
        #expect(block.namedModules().map(\.name).prefix(6) == ["", "norm1", "attn", "attn.qkv", "attn.proj", "norm2"])
    }

    /// A layer whose hand-written listing forgets a parameter: the check must see it.
    final class ForgetfulLayer: Module {
        typealias Scalar = Double
        let weight = parameter(Tensor<Double>.ones([2, 2]))
        let bias = parameter(Tensor<Double>.zeros([2]))
        var isTraining = true
        var localParameters: [(String, Variable<Double>)] { [("weight", weight)] }
    }

    /// A layer that hides a parameter inside a struct: reflection cannot register it, the check still finds it.
    struct Pair { var a: Variable<Double>; var b: Variable<Double> }
    final class HidingLayer: Module {
        typealias Scalar = Double
        let pair = Pair(a: parameter(Tensor<Double>.ones([2])), b: parameter(Tensor<Double>.ones([2])))
        var isTraining = true
    }

    @Test("the check catches a parameter left out of the listing")
    func catchesForgottenParameter() {
        #expect(ForgetfulLayer().unregisteredParameters() == ["bias"])
        #expect(Set(HidingLayer().unregisteredParameters()) == ["pair.a", "pair.b"])
    }

    @Test("training mode reaches every submodule")
    func trainingModeEverywhere() throws {
        var g = RandomGenerator(seed: 2)
        let net = Sequential<Double>([Dense<Double>(2, 3, using: &g), Dropout<Double>(0.5), MLP<Double>(sizes: [3, 2], using: &g)])
        net.eval()
        #expect(net.namedModules().allSatisfy { !$0.module.isTraining })
        net.train()
        #expect(net.namedModules().allSatisfy { $0.module.isTraining })
    }
}
