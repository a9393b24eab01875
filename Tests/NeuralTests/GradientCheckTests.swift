// Every backward rule against central finite differences in Double (first order, relative error < 1e-6), and
// the gradients of gradients (second order, relative error < 1e-6) for the same operations, layers and losses.
// See GradientCheckSupport.swift for the method.

import Foundation
import Linear
import Neural
import Testing
import TestSupport

typealias V = Variable<Double>

/// A Double generator for layer construction inside cases.
func gen(_ seed: UInt64) -> RandomGenerator { RandomGenerator(seed: seed) }

let arithmeticCases: [GradCase] = [
    GradCase("add same shape", [[3, 4], [3, 4]]) { try $0[0] + $0[1] },
    GradCase("add [3,4]+[4]", [[3, 4], [4]]) { try $0[0] + $0[1] },
    GradCase("add [3,1]+[1,4]", [[3, 1], [1, 4]]) { try $0[0] + $0[1] },
    GradCase("add [2,3,4]+[3,1]", [[2, 3, 4], [3, 1]]) { try $0[0] + $0[1] },
    GradCase("add scalar tensor", [[2, 3], []]) { try $0[0] + $0[1] },
    GradCase("subtract [4]-[3,4]", [[4], [3, 4]]) { try $0[0] - $0[1] },
    GradCase("multiply [2,3,4]*[4]", [[2, 3, 4], [4]]) { try $0[0] * $0[1] },
    GradCase("multiply [3,1]*[1,4]", [[3, 1], [1, 4]]) { try $0[0] * $0[1] },
    GradCase("divide [3,4]/[4]", [[3, 4], [4]], .positive) { try $0[0] / $0[1] },
    GradCase("divide [3,1]/[3,4]", [[3, 1], [3, 4]], .positive) { try $0[0] / $0[1] },
    GradCase("negate", [[3, 4]]) { -$0[0] },
    GradCase("scalar ops", [[3, 4]], .positive) { x in
        let a: V = (x[0] + 2) * 1.5 - 0.5
        let b: V = 3 - x[0]
        let c: V = 2 / x[0]
        let d: V = x[0] / 4
        return try a + b + c + d
    },
    GradCase("self product x*x", [[5]]) { try $0[0] * $0[0] },
]

let unaryCases: [GradCase] = [
    GradCase("exp", [[3, 4]]) { $0[0].exp() },
    GradCase("log", [[3, 4]], .positive) { $0[0].log() },
    GradCase("sqrt", [[3, 4]], .positive) { $0[0].sqrt() },
    GradCase("rsqrt", [[3, 4]], .positive) { $0[0].rsqrt() },
    GradCase("square", [[3, 4]]) { $0[0].square() },
    GradCase("pow 3", [[3, 4]]) { $0[0].pow(3) },
    GradCase("pow -0.5", [[3, 4]], .positive) { $0[0].pow(-0.5) },
    GradCase("abs", [[3, 4]], .awayFromZero) { $0[0].abs() },
    GradCase("sin", [[3, 4]]) { $0[0].sin() },
    GradCase("cos", [[3, 4]]) { $0[0].cos() },
    GradCase("log1p", [[3, 4]], .positive) { $0[0].log1p() },
    GradCase("expm1", [[3, 4]]) { $0[0].expm1() },
    GradCase("tanh", [[3, 4]]) { $0[0].tanh() },
    GradCase("sigmoid", [[3, 4]]) { $0[0].sigmoid() },
    GradCase("relu", [[3, 4]], .awayFromZero) { $0[0].relu() },
    GradCase("leakyRelu", [[3, 4]], .awayFromZero) { try $0[0].leakyRelu(0.1) },
    GradCase("silu", [[3, 4]]) { $0[0].silu() },
    GradCase("gelu", [[3, 4]]) { $0[0].gelu() },
    GradCase("softplus", [[3, 4]]) { $0[0].softplus() },
    GradCase("clamp", [[4, 4]], .awayFromZero) { $0[0].clamp(min: -0.25, max: 0.25) },
    GradCase("silu of silu", [[6]]) { $0[0].silu().silu() },
]

let reductionCases: [GradCase] = [
    GradCase("sum", [[3, 4]]) { $0[0].sum() },
    GradCase("mean", [[3, 4]]) { $0[0].mean() },
    GradCase("sum axis 0", [[3, 4]]) { try $0[0].sum(axis: 0) },
    GradCase("sum axis 1 keepDims", [[3, 4]]) { try $0[0].sum(axis: 1, keepDims: true) },
    GradCase("sum axis 1 of 3-D", [[2, 3, 4]]) { try $0[0].sum(axis: 1) },
    GradCase("mean axis -1", [[2, 3, 4]]) { try $0[0].mean(axis: -1) },
    GradCase("variance axis 1", [[3, 5]]) { try $0[0].variance(axis: 1, ddof: 1) },
    GradCase("max axis 1", [[3, 5]]) { try $0[0].max(axis: 1) },
    GradCase("max axis 0 keepDims", [[4, 3]]) { try $0[0].max(axis: 0, keepDims: true) },
    GradCase("sumTo [3,1]", [[2, 3, 4]]) { try $0[0].sum(toShape: [3, 1]) },
    GradCase("broadcast [3,1]→[2,3,4]", [[3, 1]]) { try $0[0].broadcast(to: [2, 3, 4]) },
    GradCase("logsumexp axis 1", [[3, 5]]) { try $0[0].logsumexp(axis: 1) },
    GradCase("logsumexp axis 0 keepDims", [[3, 5]]) { try $0[0].logsumexp(axis: 0, keepDims: true) },
    GradCase("softmax last axis", [[3, 5]]) { try $0[0].softmax() },
    GradCase("softmax axis 0 of 3-D", [[3, 2, 4]]) { try $0[0].softmax(axis: 0) },
    GradCase("logSoftmax last axis", [[3, 5]]) { try $0[0].logSoftmax() },
    GradCase("logSoftmax axis 1 of 3-D", [[2, 4, 3]]) { try $0[0].logSoftmax(axis: 1) },
    GradCase("norm", [[3, 4]]) { $0[0].norm() },
    GradCase("norm axis 1", [[3, 4]]) { try $0[0].norm(axis: 1) },
]

let shapeCases: [GradCase] = [
    GradCase("reshape", [[3, 4]]) { try $0[0].reshaped([2, -1]).exp() },
    GradCase("permute 3-D", [[2, 3, 4]]) { try $0[0].permuted([2, 0, 1]) },
    GradCase("transpose", [[3, 4]]) { try $0[0].transposed() },
    GradCase("slice axis 1", [[3, 5]]) { try $0[0].slice(1..<4, axis: 1) },
    GradCase("unslice", [[2, 2]]) { try $0[0].unslice(1..<3, axis: 1, shape: [2, 4]) },
    GradCase("chunk", [[2, 6]]) { x in let c = try x[0].chunked(3, axis: 1); return try c[0] * c[2] + c[1] },
    GradCase("concatenate axis 0", [[2, 3], [1, 3]]) { try V.concatenate([$0[0], $0[1]], axis: 0) },
    GradCase("concatenate axis 1", [[2, 3], [2, 2]]) { try V.concatenate([$0[0], $0[1]], axis: 1) },
    GradCase("stack", [[2, 3], [2, 3]]) { try V.stack([$0[0], $0[1]], axis: 1) },
    GradCase("unsqueeze/squeeze", [[3, 4]]) { try $0[0].unsqueezed(axis: 1).exp().squeezed(axis: 1) },
    GradCase("gather rows with repeats", [[4, 3]]) { try $0[0].gather(rows: [2, 0, 2, 3, 2]) },
    GradCase("scatterAdd", [[3, 2]]) { try $0[0].scatterAdd(rows: [1, 1, 3], count: 4) },
    GradCase("pick", [[4, 3]]) { try $0[0].pick([2, 0, 1, 2]) },
    GradCase("unpick", [[4]]) { try $0[0].unpick([2, 0, 1, 2], columns: 3) },
]

let productCases: [GradCase] = [
    GradCase("matmul A·B", [[3, 4], [4, 2]]) { try matmul($0[0], $0[1]) },
    GradCase("matmul A·Bᵀ", [[3, 4], [2, 4]]) { try matmul($0[0], $0[1], transposeB: true) },
    GradCase("matmul Aᵀ·B", [[4, 3], [4, 2]]) { try matmul($0[0], $0[1], transposeA: true) },
    GradCase("matmul Aᵀ·Bᵀ", [[4, 3], [2, 4]]) { try matmul($0[0], $0[1], transposeA: true, transposeB: true) },
    GradCase("matmul x·x", [[3, 3]]) { try matmul($0[0], $0[0]) },
    GradCase("batchedMatmul A·B", [[2, 3, 4], [2, 4, 2]]) { try batchedMatmul($0[0], $0[1]) },
    GradCase("batchedMatmul A·Bᵀ", [[2, 3, 4], [2, 2, 4]]) { try batchedMatmul($0[0], $0[1], transposeB: true) },
    GradCase("batchedMatmul Aᵀ·B", [[2, 4, 3], [2, 4, 2]]) { try batchedMatmul($0[0], $0[1], transposeA: true) },
    GradCase("batchedMatmul Aᵀ·Bᵀ", [[2, 4, 3], [2, 2, 4]]) { try batchedMatmul($0[0], $0[1], transposeA: true, transposeB: true) },
    GradCase("linear with bias", [[3, 4], [2, 4], [2]]) { try linear($0[0], weight: $0[1], bias: $0[2]) },
    GradCase("linear without bias", [[3, 4], [2, 4]]) { try linear($0[0], weight: $0[1], bias: nil) },
    GradCase("linear 3-D input", [[2, 3, 4], [5, 4], [5]]) { try linear($0[0], weight: $0[1], bias: $0[2]) },
    GradCase("linear → silu → linear", [[3, 4], [5, 4], [5], [2, 5]]) { x in
        try linear(linear(x[0], weight: x[1], bias: x[2]).silu(), weight: x[3], bias: nil)
    },
    // The dense layer with its activation fused into its kernels (AutogradKernels.linearActivation / activationBackward).
    GradCase("fused linear+silu", [[4, 5], [3, 5], [3]]) { try linear($0[0], weight: $0[1], bias: $0[2], activation: .silu) },
    GradCase("fused linear+gelu", [[4, 5], [3, 5], [3]]) { try linear($0[0], weight: $0[1], bias: $0[2], activation: .gelu) },
    GradCase("fused linear+relu", [[4, 5], [3, 5], [3]]) { try linear($0[0], weight: $0[1], bias: $0[2], activation: .relu) },
    GradCase("fused linear+silu without bias", [[4, 5], [3, 5]]) { try linear($0[0], weight: $0[1], bias: nil, activation: .silu) },
    GradCase("fused linear+gelu 3-D input", [[2, 3, 4], [5, 4], [5]]) { try linear($0[0], weight: $0[1], bias: $0[2], activation: .gelu) },
    GradCase("fused linear+silu → linear", [[3, 4], [5, 4], [5], [2, 5]]) { x in
        try linear(linear(x[0], weight: x[1], bias: x[2], activation: .silu), weight: x[3], bias: nil)
    },
]

let normalizationCases: [GradCase] = [
    GradCase("layerNorm affine", [[3, 5], [5], [5]]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
    GradCase("layerNorm plain 3-D", [[2, 3, 4]]) { try $0[0].layerNorm() },
    GradCase("layerNorm weight only", [[3, 4], [4]]) { try $0[0].layerNorm(weight: $0[1]) },
    GradCase("rmsNorm", [[3, 5], [5]]) { try $0[0].rmsNorm(weight: $0[1]) },
    GradCase("groupNorm", [[2, 4, 2, 2], [4], [4]]) { try $0[0].groupNorm(groups: 2, weight: $0[1], bias: $0[2]) },
]

let convolutionCases: [GradCase] = [
    GradCase("im2col k3 s1 p1", [[1, 2, 4, 4]]) { try $0[0].im2col(kernel: 3, stride: 1, padding: 1) },
    GradCase("col2im k2 s2", [[8, 4]]) { try $0[0].col2im(ConvGeometry(batch: 2, channels: 1, height: 4, width: 4, kernel: 2, stride: 2)) },
    GradCase("conv2d k3 s1 p1", [[2, 2, 4, 4], [3, 2, 3, 3], [3]]) { try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1) },
    GradCase("conv2d k3 s2 p0", [[1, 2, 5, 5], [2, 2, 3, 3], [2]]) { try conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2) },
    GradCase("convTranspose2d k3 s2 p1 op1", [[2, 2, 2, 2], [2, 3, 3, 3], [3]]) {
        try convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)
    },
]

let lossCases: [GradCase] = [
    GradCase("mse", [[3, 4], [3, 4]]) { try Loss.mse($0[0], $0[1]) },
    GradCase("l1", [[3, 4], [3, 4]]) { try Loss.l1($0[0], $0[1]) },
    GradCase("huber", [[4, 4], [4, 4]]) { try Loss.huber($0[0], $0[1], delta: 0.7) },
    GradCase("bce with logits", [[3, 4], [3, 4]]) { x in try Loss.binaryCrossEntropyWithLogits(x[0], x[1].sigmoid()) },
    GradCase("cross-entropy", [[4, 3]]) { try Loss.crossEntropy($0[0], labels: [2, 0, 1, 1]) },
    GradCase("cross-entropy sum", [[4, 3]]) { try Loss.crossEntropy($0[0], labels: [0, 0, 2, 1], reduction: .sum) },
    GradCase("gaussian KL", [[3, 4], [3, 4]]) { try Loss.gaussianKL(mean: $0[0], logVariance: $0[1]) },
    GradCase("gaussian NLL", [[3, 4], [3, 4], [3, 4]]) { try Loss.gaussianNLL($0[0], mean: $0[1], logVariance: $0[2]) },
]

let layerCases: [GradCase] = [
    GradCase("self-attention with causal mask", [[2, 3, 4]]) { x in
        var g = gen(1)
        let attn = MultiHeadAttention<Double>(dimension: 4, heads: 2, using: &g)
        return try attn(x[0], mask: causalMask(3))
    },
    GradCase("cross-attention", [[2, 3, 4], [2, 2, 3]]) { x in
        var g = gen(2)
        let attn = MultiHeadAttention<Double>(dimension: 4, heads: 2, contextDimension: 3, using: &g)
        return try attn(x[0], context: x[1])
    },
    GradCase("attention wrt the qkv weight", [[12, 4]]) { w in
        // The input is fixed; the projection weight is differentiated (one head).
        let input = Variable(Tensor<Double>.normal([2, 3, 4], seed: 5))
        let qkv = try linear(input, weight: w[0], bias: nil).chunked(3, axis: -1)
        return try scaledDotProductAttention(query: qkv[0], key: qkv[1], value: qkv[2], heads: 1, mask: causalMask(3))
    },
    GradCase("sinusoidal embedding", [[3]]) { try sinusoidalEmbedding($0[0], dimension: 6) },
    GradCase("AdaLN modulate", [[2, 3, 4], [2, 4], [2, 4]]) { try AdaLNZero.modulate($0[0], shift: $0[1], scale: $0[2]) },
    GradCase("DiT block (perturbed from zero init)", [[2, 3, 4], [2, 3]]) { x in
        var g = gen(4)
        let block = DiTBlock<Double>(dimension: 4, heads: 2, conditionDimension: 3, mlpRatio: 2, using: &g)
        block.adaLN.linear.weight.value = Tensor<Double>.normal([24, 3], std: 0.5, seed: 6)
        return try block(x[0], condition: x[1])
    },
    GradCase("residual MLP block", [[3, 4]]) { x in
        var g = gen(5)
        return try ResidualMLPBlock<Double>(dimension: 4, hidden: 6, using: &g)(x[0])
    },
    GradCase("embedding + timestep embedding", [[3]]) { x in
        var g = gen(6)
        let emb = TimestepEmbedding<Double>(dimension: 4, frequencyDimension: 6, using: &g)
        return try emb(x[0])
    },
]

let allCases = arithmeticCases + unaryCases + reductionCases + shapeCases + productCases + normalizationCases
    + convolutionCases + lossCases + layerCases

@Suite("Gradient checks (Double, central differences)")
struct GradientCheckTests {
    @Test("first order: relative error < 1e-6", arguments: allCases)
    func firstOrder(_ c: GradCase) throws {
        let e = try firstOrderError(c)
        #expect(e < 1e-6, "\(c.name): relative error \(e)")
    }

    @Test("second order (gradients of gradients): relative error < 1e-6", arguments: allCases)
    func secondOrder(_ c: GradCase) throws {
        let e = try secondOrderError(c)
        #expect(e < 1e-6, "\(c.name): relative error \(e)")
    }
}

@Suite("Gradient checker sanity")
struct GradientCheckerSanityTests {
    @Test("a deliberately wrong backward rule is caught")
    func catchesWrongRule() throws {
        // exp with the identity as its "derivative".
        let bad = GradCase("wrong exp rule", [[3, 4]]) { x in Variable.custom("badExp", value: x[0].value.exp(), inputs: [x[0]]) { g in [g] } }
        #expect(try firstOrderError(bad) > 1e-2)
        // A correct first derivative whose second derivative is wrong: the graph of g·eˣ is cut by detaching eˣ.
        let badSecond = GradCase("detached exp rule", [[3, 4]]) { x in
            Variable.custom("badExp2", value: x[0].value.exp(), inputs: [x[0]]) { g in [try g * x[0].exp().detached()] }
        }
        #expect(try firstOrderError(badSecond) < 1e-6)
        #expect(try secondOrderError(badSecond) > 1e-2)
    }

    @Test("worst errors over all cases (printed for the record)")
    func worstErrors() throws {
        var worst1 = (0.0, ""), worst2 = (0.0, "")
        for c in allCases {
            let e1 = try firstOrderError(c), e2 = try secondOrderError(c)
            if e1 > worst1.0 { worst1 = (e1, c.name) }
            if e2 > worst2.0 { worst2 = (e2, c.name) }
        }
        print("gradient checks over \(allCases.count) cases: worst first-order relative error \(worst1.0) (\(worst1.1)), worst second-order \(worst2.0) (\(worst2.1))")
        #expect(worst1.0 < 1e-6 && worst2.0 < 1e-6)
    }
}
