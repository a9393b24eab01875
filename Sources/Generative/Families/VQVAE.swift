import Foundation
import Linear
import Neural

/// The configuration of a VQ-VAE (van den Oord et al. 2017) for vectors. Each sample is encoded to `positions`
/// latent vectors of `codeDimension` entries, each quantised to one of `codeCount` codebook vectors. Defaults:
/// commitment β = 0.25 (the paper's), Adam lr 2e-4 (the paper's), codebook learned by gradients (set `ema` for
/// the EMA updates of the paper's appendix, decay γ = 0.99, Laplace ε = 1e-5), dead codes (unused for
/// `restartEvery` steps) restarted at random encoder outputs of the current batch (Dhariwal et al. 2020, Jukebox).
public struct VQVAEConfiguration: Sendable, Equatable, Codable {
    public var dimension: Int
    /// Codebook size K.
    public var codeCount: Int = 64
    /// Dimension of each code vector.
    public var codeDimension: Int = 8
    /// Latent vectors (and so codes) per sample.
    public var positions: Int = 4
    public var hidden: Int = 256
    public var hiddenLayers: Int = 2
    /// Commitment weight β.
    public var commitment: Double = 0.25
    /// EMA codebook updates instead of the codebook loss.
    public var ema: Bool = false
    /// EMA decay γ.
    public var decay: Double = 0.99
    /// Laplace smoothing ε of the EMA cluster sizes.
    public var epsilon: Double = 1e-5
    /// Check for dead codes every this many steps (0: never restart).
    public var restartEvery: Int = 100
    public var learningRate: Double = 2e-4

    public init(dimension: Int, codeCount: Int = 64, codeDimension: Int = 8, positions: Int = 4, hidden: Int = 256,
                hiddenLayers: Int = 2, commitment: Double = 0.25, ema: Bool = false, learningRate: Double = 2e-4) {
        self.dimension = dimension; self.codeCount = codeCount; self.codeDimension = codeDimension; self.positions = positions
        self.hidden = hidden; self.hiddenLayers = hiddenLayers; self.commitment = commitment; self.ema = ema; self.learningRate = learningRate
    }

    func validate() throws {
        try ConfigurationError.check("VQVAEConfiguration", ["dimension": dimension >= 1, "codeCount": codeCount >= 1, "codeDimension": codeDimension >= 1,
                                                          "positions": positions >= 1, "hidden": hidden >= 1, "hiddenLayers": hiddenLayers >= 0,
                                                          "commitment": commitment >= 0, "decay": decay > 0 && decay < 1, "epsilon": epsilon > 0,
                                                          "restartEvery": restartEvery >= 0, "learningRate": learningRate > 0],
                                     reason: "VQ-VAE: invalid configuration \(self)")
    }
}

/// Codebook usage on a data set.
public struct CodebookUsage: Sendable {
    /// Times each code was chosen.
    public var counts: [Int]
    /// Fraction of the K codes chosen at least once.
    public var usedFraction: Double
    /// exp(−Σ p_k log p_k) of the code frequencies p: 1 (one code) … K (all equally often).
    public var perplexity: Double
}

/// VQ-VAE (van den Oord et al. 2017): encoder z_e(x) [positions × d], nearest-code quantisation
/// k* = argmin_k ‖z_e − e_k‖², z_q = e_{k*}, decoder x̂ = D(z_q), and the loss
///
///     L = ‖x − D(z_e + sg(z_q − z_e))‖² + ‖sg(z_e) − z_q‖² + β‖z_e − sg(z_q)‖²
///
/// (sg = stop-gradient; the first term's straight-through estimator copies the decoder's gradient to the encoder;
/// the codebook term is computed on the quantised vectors *before* the straight-through trick, so the codebook
/// receives a gradient). With `ema` the codebook term is dropped and the codebook follows
///
///     N_k ← γN_k + (1 − γ)n_k,  m_k ← γm_k + (1 − γ)Σ_{i: k*_i = k} z_e,i,
///     Ñ_k = (N_k + ε)/(N + Kε)·N  (N = Σ_k N_k),  e_k = m_k/Ñ_k.
///
/// Distances use ‖z‖² − 2z·e + ‖e‖² (one gemm).
///
/// Sampling (`generate`) draws from the prior over code tuples. After `fitPrior(_:)` (which `vst train` calls once
/// training has ended, as the paper fits its prior to the trained model's codes) that is the empirical *joint*
/// distribution of the training rows' code tuples (k₁, …, k_P) — the maximum-likelihood categorical prior over
/// tuples, which an autoregressive prior p(k₁)·p(k₂|k₁)·… fitted without limit on the training codes reaches.
/// Without it (files written before) each position's code is drawn independently from its frequency during
/// training; that product of marginals combines codes that never occur together, and its decodes fall off the
/// data manifold (moons lifted to 64-D: precision below the Gaussian baseline's).
public final class VQVAE<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public let configuration: VQVAEConfiguration
    public let encoder: FeedForward<S>
    public let decoder: FeedForward<S>
    /// The codebook [K, d] (a parameter unless `ema`).
    public let codebook: Variable<S>
    /// EMA cluster sizes N_k [K] and sums m_k [K, d].
    public private(set) var clusterSize: Tensor<S>
    public private(set) var embedSum: Tensor<S>
    /// Uses of each code at each position during training [positions, K] (the sampling prior).
    public private(set) var positionCounts: Tensor<S>
    /// The code tuples [m, positions] of the training rows under the trained model (the joint prior), or nil.
    public private(set) var priorCodes: Tensor<S>?
    /// Uses of each code since the last dead-code check.
    public private(set) var recentUse: [Int]
    /// Codes restarted so far.
    public private(set) var restarts = 0
    public let networks: ModuleGroup<S>
    lazy var optimizer = Adam(parameters: configuration.ema ? (encoder.parameters + decoder.parameters) : networks.parameters,
                              learningRate: configuration.learningRate)
    /// Its one optimiser, for model files and exact resume.
    public var optimizers: [(name: String, optimizer: Adam<S>)] { [("optimizer", optimizer)] }

    public var familyName: GenerativeFamilyName { .vqvae }

    public init(_ c: VQVAEConfiguration, seed: UInt64) throws {
        try c.validate()
        configuration = c
        var g = RandomGenerator(seed: seed)
        let hidden = [Int](repeating: c.hidden, count: c.hiddenLayers)
        encoder = try FeedForward(sizes: [c.dimension] + hidden + [c.positions * c.codeDimension], activation: .silu, using: &g)
        decoder = try FeedForward(sizes: [c.positions * c.codeDimension] + hidden + [c.dimension], activation: .silu, using: &g)
        let bound = 1 / Double(c.codeCount)
        codebook = Variable(Tensor<S>.uniform([c.codeCount, c.codeDimension], low: S(-bound), high: S(bound), using: &g), requiresGrad: !c.ema)
        clusterSize = .ones([c.codeCount])
        embedSum = codebook.value
        positionCounts = .zeros([c.positions, c.codeCount])
        recentUse = [Int](repeating: 0, count: c.codeCount)
        networks = ModuleGroup([("encoder", encoder), ("decoder", decoder), ("quantizer", CodebookHolder(codebook))])
    }


    public var buffers: [String: Tensor<S>] {
        var b = ["cluster_size": clusterSize, "embed_sum": embedSum, "position_counts": positionCounts]
        if let p = priorCodes { b["prior_codes"] = p }
        return b
    }

    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        if let t = b["cluster_size"] { clusterSize = t }
        if let t = b["embed_sum"] { embedSum = t }
        if let t = b["position_counts"] { positionCounts = t }
        if let t = b["prior_codes"] {
            guard t.rank == 2, t.shape[0] >= 1, t.shape[1] == configuration.positions,
                  t.scalars.allSatisfy({ $0 >= 0 && Int($0) < configuration.codeCount && $0 == $0.rounded() }) else {
                throw ModelStateError(reason: "VQ-VAE: prior_codes must be [m ≥ 1, \(configuration.positions)] codes in 0..<\(configuration.codeCount), got \(t.shape)")
            }
            priorCodes = t
        }
    }

    /// After training: evaluation mode, and the prior fitted to the trained model's codes of the training rows (van
    /// den Oord et al. 2017 fit theirs after training the autoencoder).
    public func finishTraining(data: Tensor<S>) throws {
        networks.eval()
        try fitPrior(data)
    }

    /// Fits the joint prior: the code tuples of the rows of `x` (model units) under the current encoder and
    /// codebook. Sampling then draws a tuple uniformly from them.
    public func fitPrior(_ x: Tensor<S>) throws {
        let codes = try encode(x)
        guard !codes.isEmpty else { throw TensorError.invalidShape("VQ-VAE.fitPrior: no rows") }
        priorCodes = try Tensor(codes.flatMap { $0.map { S($0) } }, shape: [codes.count, configuration.positions])
    }

    // MARK: Quantisation

    /// Squared distances ‖z_i − e_k‖² [N, K] for z [N, d].
    public func distances(_ z: Tensor<S>) throws -> Tensor<S> {
        let zz = try z.square().sum(axis: 1, keepDims: true)
        let ee = try codebook.value.square().sum(axis: 1).reshaped([1, configuration.codeCount])
        let ze = try matmul(z, codebook.value, transposeB: true)
        return try (zz + ee) - ze * S(2)
    }

    /// The nearest code of each row of z [N, d].
    public func nearestCodes(_ z: Tensor<S>) throws -> [Int] { try distances(z).argmin(axis: 1) }

    /// The encoder's continuous outputs z_e as [n·positions, d] rows (recorded).
    func encoderRows(_ x: Variable<S>) throws -> Variable<S> {
        try encoder(x).reshaped([x.shape[0] * configuration.positions, configuration.codeDimension])
    }

    /// The loss and its parts on a batch: (loss, reconstruction MSE, codebook term, commitment term, codes, z_e rows).
    public func loss(_ x: Tensor<S>) throws -> (loss: Variable<S>, reconstruction: Double, codebook: Double, commitment: Double,
                                                codes: [Int], encoded: Tensor<S>) {
        try ModelSupport.checkRows(x, configuration.dimension, "VQ-VAE")
        let n = x.shape[0], c = configuration
        let ze = try encoderRows(Variable(x))
        let codes = try nearestCodes(ze.value)
        let zq = try codebook.gather(rows: codes)                               // differentiable in the codebook
        let commit = try Loss.mse(ze, zq.detached())
        let zst = try ze + Variable(zq.value - ze.value)                        // straight-through: value z_q, gradient to z_e
        let xr = try decoder(zst.reshaped([n, c.positions * c.codeDimension]))
        let recon = try Loss.mse(xr, Variable(x))
        var loss = try recon + commit * S(c.commitment)
        var cb = 0.0
        if !c.ema {
            let cbl = try Loss.mse(zq, ze.detached())
            loss = try loss + cbl
            cb = Double(cbl.scalar)
        }
        return (loss, Double(recon.scalar), cb, Double(commit.scalar), codes, ze.value)
    }

    /// One EMA step of the codebook from encoder rows z [N, d] and their codes (see the type's documentation).
    public func emaUpdate(encoded z: Tensor<S>, codes: [Int]) throws {
        let c = configuration, K = c.codeCount, d = c.codeDimension
        var counts = [Double](repeating: 0, count: K)
        var sums = [Double](repeating: 0, count: K * d)
        let zs = z.scalars
        for (i, k) in codes.enumerated() {
            counts[k] += 1
            for j in 0..<d { sums[k * d + j] += Double(zs[i * d + j]) }
        }
        let g = c.decay
        var n = clusterSize.scalars.map(Double.init), m = embedSum.scalars.map(Double.init)
        for k in 0..<K {
            n[k] = g * n[k] + (1 - g) * counts[k]
            for j in 0..<d { m[k * d + j] = g * m[k * d + j] + (1 - g) * sums[k * d + j] }
        }
        let total = n.reduce(0, +)
        var e = [S](repeating: 0, count: K * d)
        for k in 0..<K {
            let smoothed = (n[k] + c.epsilon) / (total + Double(K) * c.epsilon) * total
            for j in 0..<d { e[k * d + j] = S(m[k * d + j] / smoothed) }
        }
        clusterSize = Tensor(n.map { S($0) })
        embedSum = try Tensor(m.map { S($0) }, shape: [K, d])
        codebook.value = try Tensor(e, shape: [K, d])
    }

    /// Replaces codes unused since the last check by random rows of `encoded` (plus tiny noise); returns how many.
    @discardableResult
    public func restartDeadCodes(encoded z: Tensor<S>, using g: inout RandomGenerator) throws -> Int {
        let d = configuration.codeDimension
        var e = codebook.value.scalars, m = embedSum.scalars, n = clusterSize.scalars
        let zs = z.scalars, rows = z.shape[0]
        var restarted = 0
        for k in 0..<configuration.codeCount where recentUse[k] == 0 {
            let r = g.nextInt(below: rows)
            for j in 0..<d {
                let v = zs[r * d + j] + S(1e-3 * g.nextNormal())
                e[k * d + j] = v; m[k * d + j] = v
            }
            n[k] = 1
            restarted += 1
        }
        if restarted > 0 {
            codebook.value = try Tensor(e, shape: codebook.shape)
            embedSum = try Tensor(m, shape: embedSum.shape)
            clusterSize = Tensor(n)
        }
        recentUse = [Int](repeating: 0, count: configuration.codeCount)
        restarts += restarted
        return restarted
    }

    public func trainStep(_ x: Tensor<S>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics {
        let r = try loss(x)
        optimizer.zeroGrad()
        try r.loss.backward()
        try optimizer.step()
        if configuration.ema { try emaUpdate(encoded: r.encoded, codes: r.codes) }
        var pc = positionCounts.scalars
        let K = configuration.codeCount, P = configuration.positions
        for (i, k) in r.codes.enumerated() {
            recentUse[k] += 1
            pc[(i % P) * K + k] += 1
        }
        positionCounts = try Tensor(pc, shape: [P, K])
        if configuration.restartEvery > 0 && (step + 1) % configuration.restartEvery == 0 {
            try restartDeadCodes(encoded: r.encoded, using: &g)
        }
        let used = Set(r.codes).count
        return [("loss", Double(r.loss.scalar)), ("recon", r.reconstruction), ("commit", r.commitment), ("codes_used", Double(used))]
    }

    // MARK: Encode, decode, sample

    /// The continuous encoder outputs z_e [n, positions·d].
    public func encodeContinuous(_ x: Tensor<S>) throws -> Tensor<S> {
        try ModelSupport.checkRows(x, configuration.dimension, "VQ-VAE.encode")
        return try encoder.predict(x)
    }

    /// The discrete codes [n, positions] of each sample.
    public func encode(_ x: Tensor<S>) throws -> [[Int]] {
        let z = try encodeContinuous(x).reshaped([x.shape[0] * configuration.positions, configuration.codeDimension])
        let codes = try nearestCodes(z)
        return (0..<x.shape[0]).map { Array(codes[($0 * configuration.positions)..<(($0 + 1) * configuration.positions)]) }
    }

    /// The quantised latents z_q [n, positions·d] of codes [n][positions].
    public func quantizedLatents(codes: [[Int]]) throws -> Tensor<S> {
        let P = configuration.positions, K = configuration.codeCount
        for row in codes {
            guard row.count == P else { throw TensorError.invalidShape("VQ-VAE: each sample needs \(P) codes, got \(row.count)") }
            for k in row where k < 0 || k >= K { throw ConfigurationError(field: "VQVAE.quantizedLatents(codes:)", reason: "VQ-VAE: code \(k) outside 0..<\(K)") }
        }
        return try codebook.value.gather(rows: codes.flatMap { $0 }).reshaped([codes.count, P * configuration.codeDimension])
    }

    /// Decodes codes [n][positions] to data [n, D].
    public func decode(codes: [[Int]]) throws -> Tensor<S> { try decoder.predict(quantizedLatents(codes: codes)) }

    /// Reconstruction through the codes.
    public func reconstruct(_ x: Tensor<S>) throws -> Tensor<S> { try decode(codes: encode(x)) }

    /// Codebook usage and perplexity of the codes of `x`.
    public func usage(_ x: Tensor<S>) throws -> CodebookUsage {
        var counts = [Int](repeating: 0, count: configuration.codeCount)
        for row in try encode(x) { for k in row { counts[k] += 1 } }
        let total = Double(counts.reduce(0, +))
        var h = 0.0
        for c in counts where c > 0 { let p = Double(c) / total; h -= p * log(p) }
        return CodebookUsage(counts: counts, usedFraction: Double(counts.filter { $0 > 0 }.count) / Double(counts.count), perplexity: exp(h))
    }

    /// Codes drawn per position from the training frequencies (uniform before training), decoded.
    public func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<S> {
        guard n >= 1 else { throw ConfigurationError(field: "VQVAE.generate(_:)", reason: "VQ-VAE: n must be ≥ 1, got \(n)") }
        let P = configuration.positions, K = configuration.codeCount
        if let prior = priorCodes {
            let m = prior.shape[0], t = prior.scalars
            let codes: [[Int]] = (0..<n).map { i in
                var g = SeededNoise(seed: seed).generator(row: i, step: 0, stream: NoiseStream(rawValue: 131))
                let r = g.nextInt(below: m)
                return (0..<P).map { Int(t[r * P + $0]) }
            }
            return try decode(codes: codes)
        }
        let pc = positionCounts.scalars.map { Double($0) + 1e-9 }
        let codes: [[Int]] = (0..<n).map { i in
            var g = SeededNoise(seed: seed).generator(row: i, step: 0, stream: NoiseStream(rawValue: 131))
            return (0..<P).map { p in
                let w = Array(pc[(p * K)..<((p + 1) * K)])
                var u = g.nextUniform() * w.reduce(0, +)
                for k in 0..<K { u -= w[k]; if u <= 0 { return k } }
                return K - 1
            }
        }
        return try decode(codes: codes)
    }
}

/// Holds the codebook as a module parameter named `codebook`.
final class CodebookHolder<S: BLASScalar>: ModuleBase, Module {
    let value: Variable<S>
    init(_ v: Variable<S>) { value = v }
    var localParameters: [(String, Variable<S>)] { [("codebook", value)] }
}
