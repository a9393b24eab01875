// Forward passes against numpy (float64) references from data/golden/make_neural_golden.py.

import Foundation
import Linear
import Neural
import Testing
import TestSupport

private struct Golden {
    let json: [String: Any]
    init() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: dataPath("golden/neural_golden.json")))
        json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
    func section(_ name: String) -> [String: Any] { json[name] as! [String: Any] }
}

private func doubles(_ d: [String: Any], _ key: String) -> [Double] { (d[key] as! [Any]).map { ($0 as! NSNumber).doubleValue } }
private func ints(_ d: [String: Any], _ key: String) -> [Int] { (d[key] as! [Any]).map { ($0 as! NSNumber).intValue } }
private func tensor(_ d: [String: Any], _ key: String, _ shape: [Int]) throws -> Tensor<Double> { try Tensor(doubles(d, key), shape: shape) }

@Suite("Golden values from numpy")
struct GoldenTests {
    @Test("multi-head self-attention with a causal mask matches numpy")
    func selfAttention() throws {
        let s = try Golden().section("self_attention")
        let b = s["b"] as! Int, t = s["t"] as! Int, d = s["d"] as! Int, h = s["heads"] as! Int
        var g = RandomGenerator(seed: 0)
        let attn = MultiHeadAttention<Double>(dimension: d, heads: h, using: &g)
        attn.qkv!.weight.value = try tensor(s, "qkv_weight", [3 * d, d])
        attn.qkv!.bias!.value = try tensor(s, "qkv_bias", [3 * d])
        attn.proj.weight.value = try tensor(s, "proj_weight", [d, d])
        attn.proj.bias!.value = try tensor(s, "proj_bias", [d])
        let y = try attn(Variable(tensor(s, "x", [b, t, d])), mask: tensor(s, "mask", [t, t]))
        let expected = try tensor(s, "output", [b, t, d])
        #expect(maxDifference(y.value, expected) < 1e-12)
        // Float gives the same to single precision.
        let yf = try noGrad {
            let af = MultiHeadAttention<Float>(dimension: d, heads: h, using: &g)
            af.qkv!.weight.value = attn.qkv!.weight.value.cast()
            af.qkv!.bias!.value = attn.qkv!.bias!.value.cast()
            af.proj.weight.value = attn.proj.weight.value.cast()
            af.proj.bias!.value = attn.proj.bias!.value.cast()
            return try af(Variable(tensor(s, "x", [b, t, d]).cast()), mask: causalMask(t))
        }
        #expect(maxDifference(yf.value.cast(to: Double.self), expected) < 1e-5)
    }

    @Test("multi-head cross-attention matches numpy")
    func crossAttention() throws {
        let golden = try Golden()
        let s = golden.section("self_attention"), c = golden.section("cross_attention")
        let b = s["b"] as! Int, t = s["t"] as! Int, d = s["d"] as! Int, h = s["heads"] as! Int
        let sl = c["s"] as! Int, cd = c["c"] as! Int
        var g = RandomGenerator(seed: 0)
        let attn = MultiHeadAttention<Double>(dimension: d, heads: h, contextDimension: cd, using: &g)
        attn.q!.weight.value = try tensor(c, "q_weight", [d, d])
        attn.q!.bias!.value = try tensor(c, "q_bias", [d])
        attn.kv!.weight.value = try tensor(c, "kv_weight", [2 * d, cd])
        attn.kv!.bias!.value = try tensor(c, "kv_bias", [2 * d])
        attn.proj.weight.value = try tensor(s, "proj_weight", [d, d])
        attn.proj.bias!.value = try tensor(s, "proj_bias", [d])
        let y = try attn(Variable(tensor(s, "x", [b, t, d])), context: Variable(tensor(c, "context", [b, sl, cd])))
        #expect(maxDifference(y.value, try tensor(c, "output", [b, t, d])) < 1e-12)
    }

    @Test("conv2d and conv_transpose2d match direct numpy loops")
    func convolutions() throws {
        let golden = try Golden()
        let c = golden.section("conv2d")
        let y = try conv2d(Variable(tensor(c, "x", ints(c, "x_shape"))), weight: Variable(tensor(c, "weight", ints(c, "weight_shape"))),
                           bias: Variable(tensor(c, "bias", [4])), stride: 2, padding: 1)
        #expect(maxDifference(y.value, try tensor(c, "output", ints(c, "output_shape"))) < 1e-12)
        let ct = golden.section("conv_transpose2d")
        let yt = try convTranspose2d(Variable(tensor(ct, "x", ints(ct, "x_shape"))),
                                     weight: Variable(tensor(ct, "weight", ints(ct, "weight_shape"))),
                                     bias: Variable(tensor(ct, "bias", [2])), stride: 2, padding: 1, outputPadding: 1)
        #expect(maxDifference(yt.value, try tensor(ct, "output", ints(ct, "output_shape"))) < 1e-12)
    }

    @Test("layer norm, GELU and the sinusoidal embedding match numpy")
    func elementwise() throws {
        let golden = try Golden()
        let l = golden.section("layer_norm")
        let shape = ints(l, "shape")
        let y = try Variable(tensor(l, "x", shape)).layerNorm(weight: Variable(tensor(l, "weight", [shape[1]])),
                                                              bias: Variable(tensor(l, "bias", [shape[1]])))
        #expect(maxDifference(y.value, try tensor(l, "output", shape)) < 1e-12)
        let gl = golden.section("gelu_tanh")
        let xs = doubles(gl, "x")
        #expect(maxDifference(Variable(Tensor(xs)).gelu().value, Tensor(doubles(gl, "output"))) < 1e-12)
        let sn = golden.section("sinusoidal")
        let e = try sinusoidalEmbedding(Variable(Tensor(doubles(sn, "t"))), dimension: 8)
        #expect(maxDifference(e.value, try tensor(sn, "output", [4, 8])) < 1e-9)
    }
}
