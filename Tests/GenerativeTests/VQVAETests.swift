// VQ-VAE: indices are the argmin of distances, the straight-through gradient reaches the encoder, the codebook
// receives a gradient, one EMA step matches its formula, 1 ≤ perplexity ≤ K, dead-code restarts, and codebook
// usage after training on digits.

import Foundation
import Linear
import Neural
import Testing
@testable import Generative
import TestSupport

@Suite("VQ-VAE", .serialized)
struct VQVAETests {
    @Test("codes are the argmin of brute-force squared distances")
    func argmin() throws {
        let vq = try VQVAE<Double>(VQVAEConfiguration(dimension: 6, codeCount: 10, codeDimension: 3, positions: 2, hidden: 8), seed: 1)
        var g = RandomGenerator(seed: 2)
        vq.codebook.value = .normal([10, 3], using: &g)
        let z = Tensor<Double>.normal([50, 3], using: &g)
        let codes = try vq.nearestCodes(z)
        let e = vq.codebook.value
        for i in 0..<50 {
            var best = 0, bestD = Double.infinity
            for k in 0..<10 {
                var d = 0.0
                for j in 0..<3 { d += (z[i, j] - e[k, j]) * (z[i, j] - e[k, j]) }
                if d < bestD { bestD = d; best = k }
            }
            #expect(codes[i] == best)
        }
        // encode → [n][positions], decode round-trips shapes; codes out of range are refused.
        let x = Tensor<Double>.normal([4, 6], using: &g)
        let c = try vq.encode(x)
        #expect(c.count == 4 && c.allSatisfy { $0.count == 2 })
        #expect(try vq.decode(codes: c).shape == [4, 6])
        #expect(throws: (any Error).self) { try vq.decode(codes: [[0, 10]]) }
    }

    @Test("straight-through: the reconstruction gradient reaches the encoder; the codebook gets a non-zero gradient")
    func gradients() throws {
        let vq = try VQVAE<Float>(VQVAEConfiguration(dimension: 8, codeCount: 16, codeDimension: 4, positions: 2, hidden: 16, commitment: 0), seed: 3)
        var g = RandomGenerator(seed: 4)
        let x = Tensor<Float>.normal([32, 8], using: &g)
        // With β = 0 the encoder's only gradient is the decoder's, copied through the quantiser.
        let r = try vq.loss(x)
        try r.loss.backward()
        for p in vq.encoder.parameters { #expect((p.grad.map { Double($0.norm()) } ?? 0) > 0) }
        let cg = vq.codebook.grad.map { Double($0.norm()) } ?? 0
        #expect(cg > 0)
        // The gradient reaching z_e equals the decoder's gradient at z_q (identity Jacobian of the quantiser).
        vq.networks.zeroGrad()
        let ze = try vq.encoderRows(Variable(x))
        let codes = try vq.nearestCodes(ze.value)
        let zq = try vq.codebook.value.gather(rows: codes)
        let zeLeaf = Variable(ze.value, requiresGrad: true)
        let zst = try zeLeaf + Variable(zq - ze.value)
        let out = try Loss.mse(vq.decoder(zst.reshaped([32, 8])), Variable(x))
        let gz = try gradient(of: out, wrt: zeLeaf)
        let zqLeaf = Variable(zq, requiresGrad: true)
        let out2 = try Loss.mse(vq.decoder(zqLeaf.reshaped([32, 8])), Variable(x))
        let gq = try gradient(of: out2, wrt: zqLeaf)
        #expect(maxDifference(gz.value, gq.value) < 1e-7)
    }

    @Test("one EMA step matches N ← γN + (1−γ)n, m ← γm + (1−γ)Σz, e = m/Ñ with Laplace-smoothed Ñ")
    func emaStep() throws {
        var c = VQVAEConfiguration(dimension: 4, codeCount: 3, codeDimension: 2, positions: 1, hidden: 4, ema: true)
        c.decay = 0.9
        c.epsilon = 0.01
        let vq = try VQVAE<Double>(c, seed: 5)
        #expect(!vq.codebook.requiresGrad)
        let e0 = vq.codebook.value
        let z = try Tensor<Double>([1, 2, 3, 4, 5, 6, 7, 8], shape: [4, 2])
        let codes = [0, 0, 2, 0]
        try vq.emaUpdate(encoded: z, codes: codes)
        let n: [Double] = [0.9 + 0.1 * 3, 0.9, 0.9 + 0.1 * 1]
        let sums: [[Double]] = [[1 + 3 + 7, 2 + 4 + 8], [0, 0], [5, 6]]
        let total = n.reduce(0, +)
        for k in 0..<3 {
            let smoothed = (n[k] + 0.01) / (total + 3 * 0.01) * total
            #expect(abs(vq.clusterSize[k] - n[k]) < 1e-12)
            for j in 0..<2 {
                let m = 0.9 * e0[k, j] + 0.1 * sums[k][j]
                #expect(abs(vq.embedSum[k, j] - m) < 1e-12)
                #expect(abs(vq.codebook.value[k, j] - m / smoothed) < 1e-12)
            }
        }
    }

    @Test("1 ≤ perplexity ≤ K; dead codes are restarted at encoder outputs")
    func perplexityAndRestarts() throws {
        let vq = try VQVAE<Float>(VQVAEConfiguration(dimension: 8, codeCount: 12, codeDimension: 2, positions: 3, hidden: 16), seed: 6)
        var g = RandomGenerator(seed: 7)
        let x = Tensor<Float>.normal([100, 8], using: &g)
        let u = try vq.usage(x)
        #expect(u.perplexity >= 1 - 1e-9 && u.perplexity <= 12 + 1e-9)
        #expect(u.counts.reduce(0, +) == 300)
        // Everything maps to one code: perplexity 1.
        vq.codebook.value = try Tensor<Float>.concatenate([.zeros([1, 2]), .full([11, 2], 1e6)], axis: 0)
        let one = try vq.usage(x)
        #expect(abs(one.perplexity - 1) < 1e-9 && one.usedFraction == 1.0 / 12)
        // No code has been used since the last check: all are restarted, at encoder outputs.
        let z = try vq.encodeContinuous(x).reshaped([300, 2])
        #expect(try vq.restartDeadCodes(encoded: z, using: &g) == 12)
        let after = try vq.usage(x)
        #expect(after.usedFraction > one.usedFraction)
    }

    @Test("digits: reconstructions improve and codebook usage stays above 50 % (gradient and EMA codebooks)")
    func digitsUsage() throws {
        for ema in [false, true] {
            var c = VQVAEConfiguration(dimension: 64, codeCount: 32, codeDimension: 4, positions: 4, hidden: 128, ema: ema, learningRate: 1e-3)
            c.restartEvery = 50
            let vq = try VQVAE<Float>(c, seed: 8)
            let held = DigitsSplit.heldOut
            let before = Double(try (vq.reconstruct(held) - held).square().mean())
            let r = try GenerativeTrainer.train(vq, data: DigitsSplit.train, configuration: GenerativeTrainingConfiguration(steps: 800, batchSize: 128, seed: 9))
            let after = Double(try (vq.reconstruct(held) - held).square().mean())
            let u = try vq.usage(held)
            print(String(format: "VQ-VAE digits (%@ codebook, K = 32, 4 positions): recon MSE %.4f → %.4f, usage %.0f%%, perplexity %.1f, %d restarts; %.1f s",
                         ema ? "EMA" : "gradient", before, after, 100 * u.usedFraction, u.perplexity, vq.restarts, r.seconds))
            #expect(after < 0.7 * before)
            #expect(u.usedFraction >= 0.5)
            #expect(u.perplexity > 4)
            let s = try vq.generate(10, labels: nil, seed: 1)
            #expect(s.shape == [10, 64] && s.allFinite)
        }
    }
}
