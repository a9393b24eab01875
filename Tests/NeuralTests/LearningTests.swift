// Tests that show the module learns: a 2-D regression and the digits classifier (MLP and CNN).
// Timings are printed; in a release build the digits MLP trains in well under a few seconds.

import Foundation
import Linear
import Neural
import Testing
import TestSupport

/// The digits (1797 × 64 pixels in 0…16, labels 0…9) scaled to [0, 1], split 80/20 by a seeded permutation.
private func digits() throws -> (train: Tensor<Float>, trainLabels: [Int], test: Tensor<Float>, testLabels: [Int]) {
    let table = try CSV.read(dataPath("digits.csv"), labelColumn: -1)
    let x: Tensor<Float> = (table.data * (1.0 / 16)).cast()
    let labels = table.labels!
    var g = RandomGenerator(seed: 2024)
    let order = g.permutation(labels.count)
    let cut = labels.count * 4 / 5
    let tr = Array(order[..<cut]), te = Array(order[cut...])
    return (try x.batch(tr), tr.map { labels[$0] }, try x.batch(te), te.map { labels[$0] })
}

private func accuracy(_ logits: Tensor<Float>, _ labels: [Int]) throws -> Double {
    let predicted = try logits.argmax(axis: 1)
    return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
}

@Suite("Learning")
struct LearningTests {
    @Test("an MLP fits a 2-D regression to a small loss")
    func regression() throws {
        let x = Tensor<Float>.uniform([256, 2], low: -2, high: 2, seed: 1)
        let y = Tensor<Float>(unsafeUninitializedShape: [256, 1]) { p, _ in
            x.withUnsafeBufferPointer { q in for i in 0..<256 { p[i] = Float(Foundation.sin(Double(q[2 * i])) * Foundation.cos(Double(q[2 * i + 1]))) } }
        }
        var g = RandomGenerator(seed: 2)
        let net = MLP<Float>(sizes: [2, 64, 64, 1], activation: .silu, using: &g)
        let opt = Adam(parameters: net.parameters, learningRate: 1e-2)
        let schedule = LearningRateSchedule.cosine(peak: 1e-2, totalSteps: 1500, warmupSteps: 50, minimum: 1e-4)
        var loss = Float.infinity
        let start = Date()
        for step in 0..<1500 {
            opt.learningRate = schedule.learningRate(at: step)
            let l = try Loss.mse(net(Variable(x)), Variable(y))
            opt.zeroGrad()
            try l.backward()
            try opt.step()
            loss = l.scalar
        }
        print("2-D regression: final MSE \(loss) (target variance \(y.variance())) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        #expect(loss < 2e-3)
    }

    @Test("an MLP classifies held-out digits with ≥ 95 % accuracy in a few seconds")
    func digitsMLP() throws {
        let d = try digits()
        var g = RandomGenerator(seed: 3)
        let net = MLP<Float>(sizes: [64, 128, 10], activation: .relu, initialization: .kaimingNormal, using: &g)
        let opt = AdamW(parameters: net.parameters, learningRate: 3e-3, weightDecay: 1e-4)
        let batches = MiniBatches(count: d.trainLabels.count, batchSize: 64, seed: 4)
        let start = Date()
        for epoch in 0..<25 {
            for b in batches.batches(epoch: epoch) {
                let loss = try Loss.crossEntropy(net(Variable(d.train.batch(b))), labels: b.map { d.trainLabels[$0] })
                opt.zeroGrad()
                try loss.backward()
                clipGradientNorm(net.parameters, maxNorm: 5)
                try opt.step()
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let acc = try noGrad { try accuracy(net(Variable(d.test)).value, d.testLabels) }
        print("digits MLP: held-out accuracy \(String(format: "%.4f", acc)) on \(d.testLabels.count) images, trained in \(String(format: "%.2f", seconds)) s")
        #expect(acc >= 0.95)
    }

    @Test("a small CNN (conv2d via im2col) classifies held-out digits with ≥ 95 % accuracy")
    func digitsCNN() throws {
        let d = try digits()
        var g = RandomGenerator(seed: 5)
        let conv1 = Conv2d<Float>(1, 8, kernel: 3, padding: 1, using: &g)
        let conv2 = Conv2d<Float>(8, 16, kernel: 3, stride: 2, padding: 1, using: &g)
        let head = Dense<Float>(16 * 4 * 4, 10, using: &g)
        let params = conv1.parameters + conv2.parameters + head.parameters
        let opt = Adam(parameters: params, learningRate: 3e-3)
        func forward(_ x: Tensor<Float>) throws -> Variable<Float> {
            let img = try Variable(x).reshaped([x.shape[0], 1, 8, 8])
            let h = try conv2(conv1(img).relu()).relu()
            return try head(h.reshaped([x.shape[0], -1]))
        }
        let batches = MiniBatches(count: d.trainLabels.count, batchSize: 64, seed: 6)
        let start = Date()
        for epoch in 0..<12 {
            for b in batches.batches(epoch: epoch) {
                let loss = try Loss.crossEntropy(forward(d.train.batch(b)), labels: b.map { d.trainLabels[$0] })
                opt.zeroGrad()
                try loss.backward()
                try opt.step()
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let acc = try noGrad { try accuracy(forward(d.test).value, d.testLabels) }
        print("digits CNN: held-out accuracy \(String(format: "%.4f", acc)), trained in \(String(format: "%.2f", seconds)) s")
        #expect(acc >= 0.95)
    }
}
