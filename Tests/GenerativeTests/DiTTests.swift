// DiT (Peebles & Xie 2023) as a denoiser: exact zero output at initialisation, patchify/unpatchify, shapes,
// gradients against finite differences, model files with a DiT, and a short learning test on the digits.

import Foundation
import Linear
import Neural
import Testing
import Generative
import TestSupport

@Suite("DiT denoiser")
struct DiTTests {
    @Test("a DiT outputs exactly 0 at initialisation (zero-initialised AdaLN-Zero and final layer), with or without labels")
    func zeroAtInit() throws {
        for positions in DiTPositionalEmbedding.allCases {
            let c = DiTConfiguration(imageSide: 8, patch: 2, width: 32, depth: 2, heads: 4, classCount: 3, positionalEmbedding: positions)
            let net = try DiT<Float>(c, seed: 1)
            let x = Tensor<Float>.normal([5, 64], seed: 2)
            let out = try net.predict(x, times: [0, 10, 200, 500, 999])
            #expect(out.shape == [5, 64])
            #expect(out.scalars.allSatisfy { $0 == 0 })
            let guided = try net.predict(x, times: [300], labels: [0, 1, 2, 3, 0], guidance: 2)
            #expect(guided.scalars.allSatisfy { $0 == 0 })
        }
    }

    @Test("patchify maps pixel (c, i·p + a, j·p + b) to token i·(H/p) + j, feature (a·p + b)·C + c; unpatchify inverts it")
    func patchify() throws {
        let c = DiTConfiguration(imageSide: 4, channels: 2, patch: 2, width: 8, depth: 1, heads: 2)
        #expect(c.dimension == 32 && c.tokens == 4 && c.patchDimension == 8)
        let n = 3
        let x = Tensor<Double>(unsafeUninitializedShape: [n, 32]) { p, _ in for i in 0..<(n * 32) { p[i] = Double(i) } }
        let t = try DiT<Double>.patchify(Variable(x), configuration: c).value
        #expect(t.shape == [n, 4, 8])
        let g = 2, p = 2, side = 4
        for r in 0..<n {
            for ch in 0..<2 {
                for y in 0..<side {
                    for xx in 0..<side {
                        let (i, a, j, b) = (y / p, y % p, xx / p, xx % p)
                        let pixel = x[r, ch * side * side + y * side + xx]
                        #expect(t[r, i * g + j, (a * p + b) * 2 + ch] == pixel)
                    }
                }
            }
        }
        let back = try DiT<Double>.unpatchify(Variable(t), configuration: c).value
        #expect(back == x)
        // Digits: 8×8 in 2×2 patches → 16 tokens of 4 values.
        let d = try DiTConfiguration(dimension: 64, patch: 2)
        #expect(d.imageSide == 8 && d.tokens == 16 && d.patchDimension == 4)
        #expect(d.tokens == 16)
    }

    @Test("shapes and validation: D = C·side², patch divides side, heads divide width, labels fit")
    func shapes() throws {
        #expect(throws: ConfigurationError.self) { try DiTConfiguration(dimension: 60) }
        #expect(throws: ConfigurationError.self) { try DiT<Float>(DiTConfiguration(imageSide: 8, patch: 3), seed: 0) }
        #expect(throws: ConfigurationError.self) { try DiT<Float>(DiTConfiguration(imageSide: 8, width: 30, heads: 4), seed: 0) }
        let net = try DiT<Float>(DiTConfiguration(imageSide: 8, patch: 4, width: 16, depth: 1, heads: 2), seed: 0)
        #expect(try net.predict(Tensor<Float>.normal([2, 64], seed: 1), times: [1]).shape == [2, 64])
        #expect(throws: TensorError.self) { try net.predict(Tensor<Float>.normal([2, 63], seed: 1), times: [1]) }
        #expect(throws: ConfigurationError.self) { try net.predict(Tensor<Float>.normal([2, 64], seed: 1), times: [1], labels: [0, 1]) }
        // The parameter list: patch, time, blocks, final layers (no positions for sin-cos).
        let names = net.namedParameters().map(\.name)
        #expect(names.first == "patch.weight" && names.last == "finalLinear.bias" && !names.contains("positions"))
        let learned = try DiT<Float>(DiTConfiguration(imageSide: 8, patch: 4, width: 16, depth: 1, heads: 2, positionalEmbedding: .learned), seed: 0)
        #expect(learned.namedParameters().first?.name == "positions")
    }

    @Test("gradients match central finite differences (Double, tiny DiT with perturbed weights)")
    func gradientCheck() throws {
        let c = DiTConfiguration(imageSide: 4, channels: 1, patch: 2, width: 8, depth: 1, heads: 2, mlpRatio: 2, timeFrequencies: 8,
                                 classCount: 2, positionalEmbedding: .learned)
        let net = try DiT<Double>(c, seed: 3)
        // Move every weight off zero so the zero-initialised paths carry gradient too.
        var g = RandomGenerator(seed: 9)
        for p in net.parameters { p.value = try p.value + Tensor<Double>.normal(p.shape, using: &g) * 0.3 }
        let x = Tensor<Double>.normal([3, 16], seed: 4)
        let w = Tensor<Double>.normal([3, 16], seed: 5)
        let time = Tensor<Double>([3, 400, 800])
        let labels = [0, 1, 2]
        func objective() throws -> Double {
            try noGrad { try (net(Variable(x), time: time, labels: labels) * Variable(w)).sum().value.scalars[0] }
        }
        let xv = Variable(x, requiresGrad: true)
        net.zeroGrad()
        try (net(xv, time: time, labels: labels) * Variable(w)).sum().backward()
        var worst = 0.0
        var checked = 0
        let h = 1e-6
        for (name, p) in net.namedParameters() {
            guard let grad = p.grad else { Issue.record("no gradient for \(name)"); continue }
            for k in Swift.Set([0, p.count / 2, p.count - 1]) {
                let original = p.value
                var plus = original, minus = original
                plus.withUnsafeMutableBufferPointer { $0[k] += h }
                minus.withUnsafeMutableBufferPointer { $0[k] -= h }
                p.value = plus
                let fp = try objective()
                p.value = minus
                let fm = try objective()
                p.value = original
                let numeric = (fp - fm) / (2 * h), analytic = grad.scalars[k]
                worst = Swift.max(worst, Swift.abs(numeric - analytic) / Swift.max(1, Swift.abs(numeric)))
                checked += 1
            }
        }
        // And the input.
        let gx = try #require(xv.grad)
        for k in [0, 7, 47] {
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[k] += h }
            minus.withUnsafeMutableBufferPointer { $0[k] -= h }
            let fp = try noGrad { try (net(Variable(plus), time: time, labels: labels) * Variable(w)).sum().value.scalars[0] }
            let fm = try noGrad { try (net(Variable(minus), time: time, labels: labels) * Variable(w)).sum().value.scalars[0] }
            worst = Swift.max(worst, Swift.abs((fp - fm) / (2 * h) - gx.scalars[k]) / Swift.max(1, Swift.abs(gx.scalars[k])))
        }
        print(String(format: "DiT gradient check: %d parameter entries, worst relative error %.2e", checked, worst))
        #expect(checked > 50)
        #expect(worst < 1e-5)
    }

    @Test("a model file with a DiT round-trips (denoiser_kind dit); a file without denoiser_kind loads as an MLP")
    func modelFile() throws {
        let dir = try makeTemporaryDirectory("GenerativeTests")
        let path = dir.appendingPathComponent("dit.safetensors").path
        let c = DiTConfiguration(imageSide: 4, patch: 2, width: 8, depth: 1, heads: 2, classCount: 2)
        let m = try FlowMatching(denoiser: DiT<Float>(c, seed: 1))
        var tc = TrainingConfiguration(steps: 5, batchSize: 8, seed: 2)
        tc.checkpointPath = path
        let t = try Trainer(family: m, scaling: .identity, configuration: tc)
        #expect(t.denoiserConfiguration == .dit(c))
        try t.train(Tensor<Float>.normal([32, 16], seed: 3), labels: (0..<32).map { $0 % 2 })
        let f = try GenerativeModelFile<Float>.load(path)
        let fm = try #require(f.denoising)
        #expect(fm.denoiserConfiguration == .dit(c) && fm.configuration.denoiser == .dit(c) && f.metadata["format"] == GenerativeModelFile<Float>.format)
        let x = Tensor<Float>.normal([4, 16], seed: 4)
        #expect(try fm.family.denoiser.predict(x, times: [300], labels: [0, 1, 2, 0]) == m.denoiser.predict(x, times: [300], labels: [0, 1, 2, 0]))
        // Sampling a conditional DiT model through the file: balanced labels, guidance.
        var o = SamplingOptions()
        o.guidance = 1
        #expect(try f.sample(6, sampler: .euler, steps: 4, seed: 1, options: o).samples.shape == [6, 16])
        o.label = 5
        #expect(throws: ConfigurationError.self) { try f.sample(6, sampler: .euler, steps: 4, seed: 1, options: o) }

        // An MLP file of the first format (substrate-generative/1), as written before denoiser_kind existed.
        let mlpPath = dir.appendingPathComponent("old.safetensors").path
        let dc = MLPDenoiserConfiguration(dimension: 2, hidden: 8, blocks: 1)
        let old = try DDPM(denoiser: MLPDenoiser<Float>(dc, seed: 1), configuration: DDPMConfiguration(timesteps: 10))
        try EarlierModelFiles.writeDenoising(to: mlpPath, family: old, denoiser: .mlp(dc), scaling: .identity, ema: nil, step: 0, seed: 0, emaUpdates: 0)
        var file = try SafetensorsFile.read(mlpPath)
        file.metadata["denoiser_kind"] = nil
        try file.write(to: mlpPath, overwrite: true)
        let loaded = try GenerativeModelFile<Float>.load(mlpPath)
        #expect(try #require(loaded.denoising).denoiserConfiguration == .mlp(dc))
    }
}

@Suite("DiT learning", .serialized)
struct DiTLearningTests {
    @Test("DDPM with a DiT (2×2 patches, 16 tokens) on the digits: the loss falls clearly")
    func learnsDigits() throws {
        let digits = try Digits.load(as: Float.self)
        let c = try DiTConfiguration(dimension: 64, patch: 2, width: 32, depth: 2, heads: 4, timeFrequencies: 64)
        let m = try DDPM(denoiser: DiT<Float>(c, seed: 1), configuration: DDPMConfiguration(betaSchedule: .cosine(), timesteps: 250))
        var tc = TrainingConfiguration(steps: 300, batchSize: 64, learningRate: 2e-3, seed: 2)
        tc.warmupSteps = 30
        let t = try Trainer(family: m, scaling: digits.scaling, configuration: tc)
        let checkpoints = [0, 75, 150, 225, 300]
        var curve: [Double] = []
        var reports: [TrainingReport] = []
        for k in checkpoints.dropFirst() {
            let r = try t.train(digits.data, until: k)
            reports.append(r)
            curve.append(r.finalLoss)
        }
        let first = reports[0].initialLoss
        print("DiT digits loss curve: start \(String(format: "%.4f", first)), after 75/150/225/300 steps (mean of the last 10 % of each quarter): "
              + curve.map { String(format: "%.4f", $0) }.joined(separator: ", ")
              + String(format: "; %.1f s", reports.reduce(0) { $0 + $1.seconds }))
        #expect(curve.last! < 0.6 * first)
        #expect(curve.last! < curve.first!)
    }
}
