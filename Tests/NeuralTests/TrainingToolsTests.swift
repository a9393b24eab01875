// Optimisers against their update formulas, clipping, schedules, EMA, mini-batches, modules and checkpoints.

import Foundation
import Linear
import Neural
import Testing
import TestSupport

@Suite("Training tools")
struct TrainingToolsTests {
    /// A parameter [2] with a fixed gradient.
    private func param(_ v: [Double], grad: [Double]) -> Variable<Double> {
        let p = Variable(Tensor(v), requiresGrad: true)
        p.grad = Tensor(grad)
        return p
    }

    @Test("Adam and AdamW follow the bias-corrected update")
    func adam() throws {
        for decoupled in [false, true] {
            let p = param([1, -2], grad: [0.5, -0.25])
            let opt: Adam<Double> = decoupled ? AdamW(parameters: [p], learningRate: 0.1, weightDecay: 0.1)
                                              : Adam(parameters: [p], learningRate: 0.1, weightDecay: 0.1)
            var x = [1.0, -2], m = [0.0, 0], v = [0.0, 0]
            for t in 1...3 {
                p.grad = Tensor([0.5 * Double(t), -0.25])
                try opt.step()
                for i in 0..<2 {
                    var g = [0.5 * Double(t), -0.25][i]
                    if decoupled { x[i] *= 1 - 0.1 * 0.1 } else { g += 0.1 * x[i] }
                    m[i] = 0.9 * m[i] + 0.1 * g
                    v[i] = 0.999 * v[i] + 0.001 * g * g
                    let mh = m[i] / (1 - Foundation.pow(0.9, Double(t))), vh = v[i] / (1 - Foundation.pow(0.999, Double(t)))
                    x[i] -= 0.1 * mh / (vh.squareRoot() + 1e-8)
                }
                #expect(maxDifference(p.value, Tensor(x)) < 1e-12)
            }
        }
    }

    @Test("SGD with momentum and Nesterov follows PyTorch's formulas")
    func sgd() throws {
        for nesterov in [false, true] {
            let p = param([1, 2], grad: [1, 1])
            let opt = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, nesterov: nesterov, weightDecay: 0.01)
            var x = [1.0, 2], b = [0.0, 0]
            for t in 0..<3 {
                p.grad = Tensor([1.0 + Double(t), -1])
                try opt.step()
                for i in 0..<2 {
                    let g = [1.0 + Double(t), -1][i] + 0.01 * x[i]
                    b[i] = t == 0 ? g : 0.9 * b[i] + g
                    x[i] -= 0.1 * (nesterov ? g + 0.9 * b[i] : b[i])
                }
                #expect(maxDifference(p.value, Tensor(x)) < 1e-12)
            }
        }
        let plain = param([1], grad: [2])
        try SGD(parameters: [plain], learningRate: 0.5).step()
        #expect(plain.value == Tensor([0]))
    }

    @Test("clipping by global norm scales every gradient by one factor")
    func clipping() {
        let a = param([0, 0], grad: [3, 0]), b = param([0], grad: [4])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-12)
        #expect(maxDifference(a.grad!, Tensor([0.6, 0])) < 1e-6 && maxDifference(b.grad!, Tensor([0.8])) < 1e-6)
        #expect(abs(clipGradientNorm([a, b], maxNorm: 10) - 1) < 1e-5)
    }

    @Test("learning-rate schedules")
    func schedules() {
        #expect(LearningRateSchedule.constant(0.1).learningRate(at: 99) == 0.1)
        let w = LearningRateSchedule.linearWarmup(peak: 1, warmupSteps: 4)
        #expect([0, 1, 3, 10].map { w.learningRate(at: $0) } == [0.25, 0.5, 1, 1])
        let c = LearningRateSchedule.cosine(peak: 1, totalSteps: 12, warmupSteps: 2, minimum: 0.1)
        #expect(c.learningRate(at: 1) == 1)
        #expect(abs(c.learningRate(at: 2) - 1) < 1e-12)
        #expect(abs(c.learningRate(at: 7) - 0.55) < 1e-12)
        #expect(abs(c.learningRate(at: 12) - 0.1) < 1e-12 && abs(c.learningRate(at: 50) - 0.1) < 1e-12)
    }

    @Test("EMA of parameters, with warm-up and swapping")
    func ema() {
        let p = param([0, 10], grad: [0, 0])
        let e = ExponentialMovingAverage(parameters: [p], decay: 0.5)
        p.value = Tensor([2, 10])
        e.update()
        #expect(e.shadow[0] == Tensor([1, 10]))
        e.withAveragedParameters { #expect(p.value == Tensor([1, 10])) }
        #expect(p.value == Tensor([2, 10]))
        let w = ExponentialMovingAverage(parameters: [p], decay: 0.999, warmup: true)
        #expect(abs(w.currentDecay - 0.1) < 1e-12)
    }

    @Test("mini-batches are deterministic permutations covering every row once per epoch")
    func miniBatches() {
        let m = MiniBatches(count: 10, batchSize: 4, seed: 3)
        let e0 = m.batches(epoch: 0), e1 = m.batches(epoch: 1)
        #expect(e0.map(\.count) == [4, 4, 2] && m.batchesPerEpoch == 3)
        #expect(e0.flatMap { $0 }.sorted() == Array(0..<10))
        #expect(e0 == MiniBatches(count: 10, batchSize: 4, seed: 3).batches(epoch: 0))
        #expect(e0 != e1)
        #expect(MiniBatches(count: 10, batchSize: 4, dropLast: true, seed: 3).batches(epoch: 0).count == 2)
        #expect(MiniBatches(count: 5, batchSize: 2, shuffle: false).batches(epoch: 7) == [[0, 1], [2, 3], [4]])
    }

    @Test("modules list parameters by path, count them and switch modes")
    func modules() throws {
        var g = RandomGenerator(seed: 1)
        let block = DiTBlock<Float>(dimension: 8, heads: 2, conditionDimension: 4, mlpRatio: 2, using: &g)
        let names = block.namedParameters().map(\.name)
        #expect(names == ["attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
                          "mlp.layers.0.weight", "mlp.layers.0.bias", "mlp.layers.1.weight", "mlp.layers.1.bias",
                          "adaLN.linear.weight", "adaLN.linear.bias"])
        #expect(block.parameterCount == 24 * 8 + 24 + 64 + 8 + 16 * 8 + 16 + 8 * 16 + 8 + 48 * 4 + 48)
        let seq = Sequential<Float>([Dense(4, 3, using: &g), Activation(.relu), Dropout(0.5, seed: 1), Dense(3, 2, using: &g)])
        #expect(seq.namedParameters().map(\.name) == ["0.weight", "0.bias", "3.weight", "3.bias"])
        seq.eval()
        #expect(seq.namedModules().allSatisfy { !$0.module.isTraining })
        let x = Variable(Tensor<Float>.normal([2, 4], seed: 2))
        #expect(try seq(x).value == seq(x).value)   // dropout off in eval mode
        // AdaLN-Zero: the block starts as the identity.
        let tokens = Variable(Tensor<Float>.normal([2, 3, 8], seed: 3)), c = Variable(Tensor<Float>.normal([2, 4], seed: 4))
        #expect(try block(tokens, condition: c).value == tokens.value)
    }

    @Test("dropout zeroes about p of the elements and rescales the rest")
    func dropout() throws {
        let d = Dropout<Double>(0.25, seed: 9)
        let y = try d(Variable(Tensor.ones([10_000]))).value
        let zeros = y.scalars.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / 10_000 - 0.25) < 0.02)
        #expect(y.scalars.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-12 })
    }
}

@Suite("Checkpoints (.safetensors)")
struct CheckpointTests {
    @Test("save → load gives identical outputs, and the metadata comes back")
    func roundTrip() throws {
        let dir = try makeTemporaryDirectory("NeuralTests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        var g1 = RandomGenerator(seed: 1), g2 = RandomGenerator(seed: 2)
        let a = DiTBlock<Float>(dimension: 8, heads: 2, conditionDimension: 4, using: &g1)
        a.adaLN.linear.weight.value = Tensor.normal([48, 4], seed: 5)   // make the block non-trivial
        let b = DiTBlock<Float>(dimension: 8, heads: 2, conditionDimension: 4, using: &g2)
        try a.save(to: path, metadata: ["dimension": "8", "heads": "2"])
        #expect(throws: TensorError.self) { try a.save(to: path) }   // refuses to overwrite
        let x = Variable(Tensor<Float>.normal([2, 5, 8], seed: 3)), c = Variable(Tensor<Float>.normal([2, 4], seed: 4))
        #expect(try a(x, condition: c).value != b(x, condition: c).value)
        let meta = try b.load(from: path)
        #expect(meta == ["dimension": "8", "heads": "2"])
        #expect(try a(x, condition: c).value == b(x, condition: c).value)
        // Loading into Double converts.
        var g3 = RandomGenerator(seed: 3)
        let d = DiTBlock<Double>(dimension: 8, heads: 2, conditionDimension: 4, using: &g3)
        try d.load(from: path)
        #expect(d.attn.qkv!.weight.value.cast(to: Float.self) == a.attn.qkv!.weight.value)
    }

    @Test("a file with other names or shapes is refused, listing every difference, and nothing is changed")
    func mismatch() throws {
        let dir = try makeTemporaryDirectory("NeuralTests")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mlp.safetensors").path
        var g = RandomGenerator(seed: 1)
        try MLP<Float>(sizes: [4, 8, 2], using: &g).save(to: path)
        let other = MLP<Float>(sizes: [4, 6, 2, 1], using: &g)
        let before = other.stateDict()
        do {
            try other.load(from: path)
            Issue.record("load should have thrown")
        } catch {
            let m = "\(error)"
            #expect(m.contains("missing: layers.2.weight, layers.2.bias"))
            #expect(m.contains("shape mismatch: layers.0.weight (expected [6, 4], found [8, 4])"))
            #expect(m.contains("layers.1.weight (expected [2, 6], found [2, 8])"))
        }
        #expect(other.stateDict() == before)
        let fewer = MLP<Float>(sizes: [4, 8], using: &g)
        do { try fewer.load(from: path); Issue.record("load should have thrown") } catch {
            #expect("\(error)".contains("unexpected: layers.1.bias, layers.1.weight"))
        }
    }
}
