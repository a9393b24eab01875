// Semantics of the tape: accumulation, noGrad, detach, seeds, unused inputs, errors, and the two
// second-order objectives generative training needs (WGAN-GP gradient penalty, a score-matching divergence).

import Foundation
import Linear
import Neural
import Testing
import TestSupport

@Suite("Autograd semantics")
struct AutogradTests {
    @Test("gradients accumulate across backward calls until zeroGrad")
    func accumulation() throws {
        let x = Variable(Tensor<Double>([1, 2, 3]), requiresGrad: true)
        try (x * x).sum().backward()
        try (x * x).sum().backward()
        #expect(x.grad == Tensor([4, 8, 12]))
        x.zeroGrad()
        try (x * 3).sum().backward()
        #expect(x.grad == Tensor([3, 3, 3]))
    }

    @Test("a variable used twice gets the sum of both paths")
    func fanOut() throws {
        let x = Variable(Tensor<Double>([2]), requiresGrad: true)
        let y = try x * x + x.exp() + x     // 2x + eˣ + 1
        try y.sum().backward()
        #expect(abs(x.grad!.scalars[0] - (4 + Foundation.exp(2) + 1)) < 1e-12)
    }

    @Test("noGrad records nothing; detached stops gradients; constants get none")
    func noGradAndDetach() throws {
        let x = Variable(Tensor<Double>([1, 2]), requiresGrad: true)
        let y = noGrad { x.exp() }
        #expect(!y.requiresGrad && y.isLeaf)
        #expect(throws: ConfigurationError.self) { try y.sum().backward() }
        let z = try (x.detached() * x).sum()   // d/dx = x (the detached factor is constant)
        try z.backward()
        #expect(x.grad == Tensor([1, 2]))
        let c = Variable(Tensor<Double>([5, 5]))
        try (c * x).sum().backward()
        #expect(c.grad == nil)
        #expect(GradMode.isEnabled)
        noGrad { #expect(!GradMode.isEnabled); withGrad { #expect(GradMode.isEnabled) } }
    }

    @Test("a non-scalar output needs a seed of its shape; seeds give vector–Jacobian products")
    func seeds() throws {
        let x = Variable(Tensor<Double>([1, 2, 3]), requiresGrad: true)
        let y = x.square()
        #expect(throws: TensorError.self) { try y.backward() }
        #expect(throws: TensorError.self) { try y.backward(Tensor([1, 1])) }
        try y.backward(Tensor([1, 0, -1]))
        #expect(x.grad == Tensor([2, 0, -6]))
    }

    @Test("gradients(of:wrt:) leaves grad alone, returns zeros for unused inputs, works for intermediates")
    func functionalGradients() throws {
        let x = Variable(Tensor<Double>([1, 2]), requiresGrad: true)
        let unused = Variable(Tensor<Double>([7]), requiresGrad: true)
        let h = x.exp()
        let y = try (h * 2).sum()
        let g = try gradients(of: y, wrt: [x, unused, h])
        #expect(x.grad == nil)
        #expect(maxDifference(g[0].value, Tensor([2 * Foundation.exp(1), 2 * Foundation.exp(2)])) < 1e-12)
        #expect(g[1].value == Tensor([0]))
        #expect(g[2].value == Tensor([2, 2]))
    }

    @Test("third derivative of x⁴ through nested createGraph")
    func thirdOrder() throws {
        let x = Variable(Tensor<Double>([1.5]), requiresGrad: true)
        let y = x.pow(4).sum()
        let d1 = try gradient(of: y, wrt: x, createGraph: true)          // 4x³
        let d2 = try gradient(of: d1.sum(), wrt: x, createGraph: true)   // 12x²
        let d3 = try gradient(of: d2.sum(), wrt: x)                      // 24x
        #expect(abs(d1.scalar - 4 * 3.375) < 1e-12 && abs(d2.scalar - 12 * 2.25) < 1e-12 && abs(d3.scalar - 36) < 1e-12)
    }

    /// A small critic D(x) = w₂·silu(W₁x + b₁) for the WGAN-GP test.
    private func critic(_ g: inout RandomGenerator) -> MLP<Double> {
        MLP(sizes: [3, 8, 1], activation: .silu, using: &g)
    }

    /// WGAN-GP penalty: mean over the batch of (‖∇ₓD(x)‖ − 1)².
    private func penalty(_ d: MLP<Double>, _ x: Tensor<Double>) throws -> Variable<Double> {
        let xv = Variable(x, requiresGrad: true)
        let out = try d(xv).sum()
        let gx = try gradient(of: out, wrt: xv, createGraph: true)
        return try (gx.norm(axis: 1) - 1).square().mean()
    }

    @Test("WGAN-GP: d/dθ of the gradient penalty matches finite differences")
    func gradientPenalty() throws {
        var g = RandomGenerator(seed: 11)
        let d = critic(&g)
        let x = Tensor<Double>.normal([5, 3], seed: 12)
        try penalty(d, x).backward()
        for p in d.parameters {
            let analytic = p.grad ?? Tensor<Double>.zeros(p.shape)   // the output bias does not affect ∇ₓD
            var numeric = Tensor<Double>.zeros(p.shape)
            let h = 1e-5
            for j in 0..<p.count {
                let saved = p.value
                p.value.withUnsafeMutableBufferPointer { $0[j] += h }
                let plus = try penalty(d, x).scalar
                p.value = saved
                p.value.withUnsafeMutableBufferPointer { $0[j] -= h }
                let minus = try penalty(d, x).scalar
                p.value = saved
                numeric.withUnsafeMutableBufferPointer { $0[j] = (plus - minus) / (2 * h) }
            }
            let err = maxDifference(analytic, numeric) / max(numeric.maxAbs(), 1e-3)
            #expect(err < 1e-6, "relative error \(err)")
        }
    }

    @Test("score matching: d/dθ of the exact divergence tr(∂s/∂x) matches finite differences")
    func divergence() throws {
        var g = RandomGenerator(seed: 21)
        let net = MLP<Double>(sizes: [2, 6, 2], activation: .tanh, using: &g)
        let x = Tensor<Double>.normal([4, 2], seed: 22)
        func objective() throws -> Variable<Double> {
            let xv = Variable(x, requiresGrad: true)
            let s = try net(xv)
            var div: Variable<Double>? = nil
            for i in 0..<2 {   // tr(∂s/∂x) = Σᵢ ∂sᵢ/∂xᵢ, one vector–Jacobian product per coordinate
                let gi = try gradient(of: s.slice(i..<(i + 1), axis: 1).sum(), wrt: xv, createGraph: true).slice(i..<(i + 1), axis: 1)
                div = try div.map { try $0 + gi } ?? gi
            }
            return try (div!.sum() + (s.square().sum() * 0.5)) * (1.0 / 4)
        }
        try objective().backward()
        let w = net.layers[0].weight
        var numeric = Tensor<Double>.zeros(w.shape)
        for j in 0..<w.count {
            let saved = w.value
            w.value.withUnsafeMutableBufferPointer { $0[j] += 1e-5 }
            let plus = try objective().scalar
            w.value = saved
            w.value.withUnsafeMutableBufferPointer { $0[j] -= 1e-5 }
            let minus = try objective().scalar
            w.value = saved
            numeric.withUnsafeMutableBufferPointer { $0[j] = (plus - minus) / 2e-5 }
        }
        #expect(maxDifference(w.grad!, numeric) / numeric.maxAbs() < 1e-6)
    }

    @Test("Float and Double agree; fused first-order and composite rules agree")
    func precisionsAgree() throws {
        let xd = Tensor<Double>.normal([4, 6], seed: 3)
        func run<S: BLASScalar>(_ x: Tensor<S>, createGraph: Bool) throws -> Tensor<S> {
            let v = Variable(x, requiresGrad: true)
            let y = try v.silu().gelu().tanh().sigmoid().layerNorm().softmax().logSoftmax(axis: 0).sum()
            return try gradient(of: y, wrt: v, createGraph: createGraph).value
        }
        let fused = try run(xd, createGraph: false), composite = try run(xd, createGraph: true)
        #expect(maxDifference(fused, composite) < 1e-12)
        let single = try run(xd.cast(to: Float.self), createGraph: false)
        #expect(maxDifference(single.cast(to: Double.self), fused) < 1e-5)
    }

    @Test("shape errors are thrown with both shapes in the message")
    func errors() throws {
        let a = Variable(Tensor<Float>.zeros([2, 3])), b = Variable(Tensor<Float>.zeros([4, 5]))
        #expect(throws: TensorError.self) { try a + b }
        do { _ = try matmul(a, b) } catch { #expect("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 5]")) }
        #expect(throws: TensorError.self) { try Loss.mse(a, b) }
    }
}
