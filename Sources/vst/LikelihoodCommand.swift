import ArgumentParser
import Foundation
import Generative
import Linear
import Substrate

/// `vst likelihood`: log-likelihoods of data under a flow-matching, score-SDE or RealNVP model, in the data's units.
struct LikelihoodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "likelihood",
        abstract: "Log-likelihood of data under a flow-matching, score-SDE (probability-flow ODE) or RealNVP model.",
        discussion: """
        Continuous-time models integrate the instantaneous change of variables (Chen et al. 2018) with a fixed-step \
        ODE solver; the divergence of the velocity is exact up to D = 64 and Hutchinson's estimate (4 probes) above, \
        or as --divergence says. RealNVP's likelihood is exact. Densities are in the data's own units (the model \
        file's scaling is undone); the same figures for a full-covariance Gaussian fitted to the rows themselves are \
        printed beside them. Output: mean log-likelihood and NLL in nats per sample, bits per dimension, and with -o \
        every row's log-likelihood as a .npy.

        Example: vst likelihood --model fm.safetensors --data heldout.npy --json
        Example: vst likelihood --model fm.safetensors --data moons --dim 64 --count 1000 --seed 7
        """)

    @Option(help: "Model file written by vst train (flow-matching, score-sde or realnvp).") var model: String
    @Option(help: "Data: a .npy/.csv file, digits, or a toy (moons, eight-gaussians, checkerboard, spiral; lifted with --dim).") var data: String
    @Option(help: "Toys: dimension of the lift.") var dim: Int?
    @Option(help: "Rows: toys draw this many (default 1000); files and digits take a seeded subset (default all).") var count: Int?
    @Option(help: "ODE steps (fixed grid).") var steps: Int = 100
    @Option(help: "ODE method: euler, heun or rk4.") var method: String = "rk4"
    @Option(help: "Divergence: auto (exact for D ≤ 64), exact, or hutchinson:K (K Rademacher probes).") var divergence: String = "auto"
    @Option(help: "Score-SDE: start time of the probability-flow integral (default: the training ε for noise prediction; where the noise std reaches 0.05 for data prediction, see the README).") var epsilon: Double?
    @Option(help: "Seed of the toy rows / subset and of the Hutchinson probes.") var seed: UInt64 = 0
    @Option(name: [.short, .customLong("output")], help: "Write every row's log-likelihood (data units, nats) as a .npy.") var output: String?
    @Flag(help: "Print exactly one JSON object to stdout instead of a table.") var json = false
    @Flag(help: "Overwrite an existing -o file.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false

    func options() throws -> LikelihoodOptions {
        var o = LikelihoodOptions()
        guard steps >= 1 && steps <= 100_000 else { throw InputError("--steps must be in 1…100000, got \(steps)") }
        o.steps = steps
        guard let m = ODEMethod(rawValue: method.lowercased()), m != .dopri5 else {
            throw InputError("--method \(method): expected euler, heun or rk4")
        }
        o.method = m
        o.seed = seed
        if let e = epsilon {
            guard e.isFinite, e > 0, e < 1 else { throw InputError("--epsilon must be in (0, 1), got \(e)") }
            o.epsilon = e
        }
        let text = divergence.lowercased()
        if text == "exact" { o.divergence = .exact }
        else if text.hasPrefix("hutchinson") {
            let parts = text.split(separator: ":")
            let k = parts.count == 2 ? Int(parts[1]) : 4
            guard let k, k >= 1, k <= 10_000 else { throw InputError("--divergence \(divergence): expected hutchinson:K with K in 1…10000") }
            o.divergence = .hutchinson(probes: k)
        } else if text != "auto" { throw InputError("--divergence \(divergence): expected auto, exact or hutchinson:K") }
        return o
    }

    func run() throws {
        let opts = try options()
        if let out = output {
            try Outputs.checkReplaceable(out)
            if !force && FileManager.default.fileExists(atPath: out) { throw InputError("\(out) exists; pass --force to overwrite it") }
        }
        // The model and the map from data units to its units.
        let density: any DensityModel<Float>, scaling: AffineScaling, family: String, dimension: Int
        var startTime: Double? = nil
        let file: GenerativeModelFile<Float>
        do { file = try GenerativeModelFile<Float>.load(model, useEMA: true) } catch { throw InputError("--model \(model): \(error)") }
        // A denoising family has a density through its ODE (flow matching, score SDE); RealNVP has one exactly.
        guard let densityModel = (file.denoising?.family as? any DensityModel<Float>) ?? (file.model as? any DensityModel<Float>) else {
            throw InputError("--model \(model): a \(file.model.familyName.rawValue) model has no tractable likelihood (use flow-matching, score-sde or realnvp)")
        }
        density = densityModel; scaling = file.scaling; family = file.model.familyName.rawValue
        dimension = file.denoising?.denoiserConfiguration.dimension ?? Int(file.metadata["dimension"] ?? "") ?? -1
        if let sde = file.denoising?.family as? ScoreSDEModel<Float> { startTime = opts.epsilon ?? sde.likelihoodEpsilon }
        // The rows, in the data's original units.
        let source: DataSource
        do { source = try DataSource(parsing: data, dimension: dim) } catch { throw InputError("--data \(data): \(error)") }
        if let c = count, c < 2 { throw InputError("--count must be ≥ 2, got \(c)") }
        let loaded = try source.load(count: count ?? (source.isGenerated ? 1000 : nil), seed: seed, as: Float.self)
        let x = try loaded.scaling.invert(loaded.data)
        if dimension > 0 && x.shape[1] != dimension {
            throw InputError("--data \(data): \(x.shape[1]) columns, but the model is \(dimension)-dimensional")
        }
        let progress = Progress(label: "likelihood rows", quiet: quiet)
        let start = Date()
        let report: LikelihoodReport
        do {
            report = try LikelihoodReport.evaluate(density, data: x, scaling: scaling, options: opts) { progress.update($0, $1) }
        } catch let e as TensorError { throw InputError("\(e)") }
        if let out = output {
            try Tensor<Double>(report.logLikelihood, shape: [report.n]).save(npy: out, overwrite: force)
        }
        let d = report.d
        let used = opts.divergence ?? LikelihoodOptions.automatic(dimension: d)
        let divergenceName: String = { if case let .hutchinson(k) = used { return "hutchinson:\(k)" }; return "exact" }()
        let exact = family == "realnvp"
        let payload = JSON.object([
            ("family", .string(family)), ("n", .int(report.n)), ("d", .int(d)),
            ("mean_log_likelihood", .num(report.meanLogLikelihood)), ("standard_error", .num(report.standardError)),
            ("nll", .num(report.nll)), ("bits_per_dim", .num(report.bitsPerDimension)),
            ("log_scale_jacobian", .num(report.logScaleJacobian)),
            ("method", exact ? .null : .string(opts.method.rawValue)), ("steps", exact ? .null : .int(opts.steps)),
            ("divergence", exact ? .string("exact (flow)") : .string(divergenceName)),
            ("epsilon", startTime.map { JSON.num($0) } ?? .null),
            ("seconds", .num(Date().timeIntervalSince(start))),
            ("baseline", .object([("name", .string("full-covariance Gaussian fitted to these rows")),
                                  ("nll", .num(report.baselineNLL)), ("bits_per_dim", .num(report.baselineBitsPerDimension))])),
        ])
        let table = "\(family) model, \(report.n) rows × \(d) of \(data)" + (exact ? "" : " (\(opts.method.rawValue), \(opts.steps) steps, divergence \(divergenceName)\(startTime.map { String(format: ", from t = %.3g", $0) } ?? ""))") + "\n"
            + Fmt.table(["", "model", "Gaussian baseline"], [
                ["NLL (nats/sample)", Fmt.f(report.nll, 6), Fmt.f(report.baselineNLL, 6)],
                ["bits/dim", Fmt.f(report.bitsPerDimension, 5), Fmt.f(report.baselineBitsPerDimension, 5)],
                ["± (standard error, nats)", Fmt.f(report.standardError, 3), ""],
            ])
        Outputs.emit(payload, table: table, json: json)
    }
}
