import Foundation
import Generative
import Linear
import Substrate

/// What `vst likelihood` does: log-likelihoods of data under a flow-matching, score-SDE or RealNVP model, in the
/// data's own units (the model file's scaling undone), beside a full-covariance Gaussian fitted to the rows.
///
/// Continuous-time models integrate the instantaneous change of variables d log p(x_t)/dt = −∇·v(x_t, t) (Chen et
/// al. 2018, "Neural Ordinary Differential Equations") on a fixed grid; the divergence is exact up to D = 64 and
/// Hutchinson's estimate E[εᵀ(∂v/∂x)ε] (Hutchinson 1989; Grathwohl et al. 2019) above. RealNVP's is exact.
public struct LikelihoodJob {
    /// The model file written by vst train.
    public var model: String
    /// A .npy / .csv file, digits, or a toy (lifted with `dim`).
    public var data: String
    public var dim: Int?
    /// Rows: toys draw this many (default 1000); files and digits take a seeded subset (default all).
    public var count: Int?
    /// ODE steps (fixed grid) and method: euler, heun or rk4.
    public var steps = 100
    public var method = "rk4"
    /// auto (exact for D ≤ 64), exact, or hutchinson:K.
    public var divergence = "auto"
    /// Score-SDE: start time of the probability-flow integral (nil: the model's).
    public var epsilon: Double?
    public var seed: UInt64 = 0
    /// Every row's log-likelihood as a .npy (nil: none).
    public var output: String?
    public var force = false
    public var quiet = false

    public init(model: String, data: String) {
        self.model = model
        self.data = data
    }

    public func options() throws -> LikelihoodOptions {
        var o = LikelihoodOptions()
        guard steps >= 1 && steps <= 100_000 else { throw ConfigurationError(field: "--steps", reason: "must be in 1…100000, got \(steps)") }
        o.steps = steps
        guard let m = ODEMethod(rawValue: method.lowercased()), m != .dopri5 else {
            throw ConfigurationError(field: "--method", reason: "\(method): expected euler, heun or rk4")
        }
        o.method = m
        o.seed = seed
        if let e = epsilon {
            guard e.isFinite, e > 0, e < 1 else { throw ConfigurationError(field: "--epsilon", reason: "must be in (0, 1), got \(e)") }
            o.epsilon = e
        }
        let text = divergence.lowercased()
        if text == "exact" { o.divergence = .exact }
        else if text.hasPrefix("hutchinson") {
            let parts = text.split(separator: ":")
            let k = parts.count == 2 ? Int(parts[1]) : 4
            guard let k, k >= 1, k <= 10_000 else { throw ConfigurationError(field: "--divergence", reason: "\(divergence): expected hutchinson:K with K in 1…10000") }
            o.divergence = .hutchinson(probes: k)
        } else if text != "auto" { throw ConfigurationError(field: "--divergence", reason: "\(divergence): expected auto, exact or hutchinson:K") }
        return o
    }

    /// Evaluates the rows' log-likelihoods (data units), writes them to `output` when given, and returns the JSON
    /// and the table.
    public func run() throws -> JobOutput {
        let opts = try options()
        if let out = output {
            try Outputs.checkReplaceable(out)
            if !force && FileManager.default.fileExists(atPath: out) { throw InputFileError(path: out, reason: "exists; pass --force to overwrite it") }
        }
        // The model and the map from data units to its units.
        let density: any DensityModel<Float>, scaling: AffineScaling, family: String, dimension: Int
        var startTime: Double? = nil
        let file = try openModelFile(model, useEMA: true)
        // A denoising family has a density through its ODE (flow matching, score SDE); RealNVP has one exactly.
        guard let densityModel = (file.denoising?.family as? any DensityModel<Float>) ?? (file.model as? any DensityModel<Float>) else {
            throw ConfigurationError(field: "--model", reason: "\(model): a \(file.model.familyName.rawValue) model has no tractable likelihood (use flow-matching, score-sde or realnvp)")
        }
        density = densityModel; scaling = file.scaling; family = file.model.familyName.rawValue
        dimension = file.denoising?.denoiserConfiguration.dimension ?? Int(file.metadata["dimension"] ?? "") ?? -1
        if let sde = file.denoising?.family as? ScoreSDEModel<Float> { startTime = opts.epsilon ?? sde.likelihoodEpsilon }
        // The rows, in the data's original units.
        let source: DataSource
        do { source = try DataSource(parsing: data, dimension: dim) } catch { throw ConfigurationError(field: "--data", reason: "\(data): \(error)") }
        if let c = count, c < 2 { throw ConfigurationError(field: "--count", reason: "must be ≥ 2, got \(c)") }
        let loaded = try source.load(count: count ?? (source.isGenerated ? 1000 : nil), seed: seed, as: Float.self)
        let x = try loaded.scaling.invert(loaded.data)
        if dimension > 0 && x.shape[1] != dimension {
            throw ConfigurationError(field: "--data", reason: "\(data): \(x.shape[1]) columns, but the model is \(dimension)-dimensional")
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
        return JobOutput(json: payload, table: table)
    }
}
