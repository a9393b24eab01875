import Foundation
import Generative
import Linear
import Neural
import Substrate

// The workloads, each written once. The suite (`substrate-bench suite`), the Linear view (`substrate-bench linear`,
// read by compare.py) and the Substrate view (`substrate-bench substrate`, read by compare_substrate.py) all time a
// point through `Workloads.measure`; they differ only in the sizes they pick and the JSON they write.

/// One entry of the catalogue: a measurement `kind` at one dtype.
struct Workload {
    /// The suite's name (kind, plus the dtype suffix where the kind runs in both precisions).
    var name: String
    /// What is measured (the name in the Linear and Substrate views).
    var kind: String
    var group: String
    var dtype: String
    var description: String
    /// Floating-point operations of one call in the GEMM model of the workload (nil: not GEMM-bound).
    var flopModel: String?
    /// Part of the suite's `all` (the others run when named: views' extra rows, kept out of the default ladder).
    var inAll: Bool = true
}

/// Counts that size a point beyond its dimension d.
struct WorkloadParameters {
    /// Rows n of the fit, project, lift, cka and frechet inputs; rows per set of the MMD² test.
    var rows: Int
    var permutations: Int
    var batch: Int
    var sampleRows: Int
    var sampleSteps: Int
    /// Element-wise workloads over a d×d tensor (the suite) instead of a vector of d elements (the Linear view).
    var squareElementwise: Bool
}

/// What one point measured.
struct Measurement {
    var stats: BenchStats
    var shape: String
    var gemmFlops: Double? = nil
    var throughput: Double? = nil
    var throughputUnit: String? = nil
    var memory = MemoryMark()
    /// What the workload computed (explained variance of the top 9, CKA, FD, MMD², …), for cross-checks with peers.
    var values: [String: [Double]] = [:]
}

enum Workloads {
    static let sampling = "2·rows·Σ in·out per eval"
    static let catalogue: [Workload] = [
        Workload(name: "matmul-f32", kind: "matmul", group: "matmul", dtype: "float32", description: "Tensor matmul d×d·d×d", flopModel: "2d³"),
        Workload(name: "matmul-f64", kind: "matmul", group: "matmul", dtype: "float64", description: "Tensor matmul d×d·d×d", flopModel: "2d³"),
        Workload(name: "gemm-f32", kind: "gemm", group: "matmul", dtype: "float32", description: "direct sgemm d×d·d×d into a preallocated output", flopModel: "2d³", inAll: false),
        Workload(name: "gemm-f64", kind: "gemm", group: "matmul", dtype: "float64", description: "direct dgemm d×d·d×d into a preallocated output", flopModel: "2d³", inAll: false),
        Workload(name: "exp-f32", kind: "exp", group: "elementwise", dtype: "float32", description: "exp of d×d", flopModel: nil),
        Workload(name: "silu-f32", kind: "silu", group: "elementwise", dtype: "float32", description: "silu of d×d", flopModel: nil),
        Workload(name: "add-f32", kind: "add", group: "elementwise", dtype: "float32", description: "d×d + d×d", flopModel: nil),
        Workload(name: "exp-f64", kind: "exp", group: "elementwise", dtype: "float64", description: "exp of d×d", flopModel: nil, inAll: false),
        Workload(name: "silu-f64", kind: "silu", group: "elementwise", dtype: "float64", description: "silu of d×d", flopModel: nil, inAll: false),
        Workload(name: "add-f64", kind: "add", group: "elementwise", dtype: "float64", description: "d×d + d×d", flopModel: nil, inAll: false),
        Workload(name: "svd-f32", kind: "svd", group: "linalg", dtype: "float32", description: "thin svd of d×d", flopModel: nil, inAll: false),
        Workload(name: "svd-f64", kind: "svd", group: "linalg", dtype: "float64", description: "thin svd of d×d", flopModel: nil),
        Workload(name: "svd-tall-f32", kind: "svd-tall", group: "linalg", dtype: "float32", description: "thin svd of 4d×d", flopModel: nil, inAll: false),
        Workload(name: "svd-tall-f64", kind: "svd-tall", group: "linalg", dtype: "float64", description: "thin svd of 4d×d", flopModel: nil, inAll: false),
        Workload(name: "eigh-f32", kind: "eigh", group: "linalg", dtype: "float32", description: "eigh of symmetric d×d", flopModel: nil, inAll: false),
        Workload(name: "eigh-f64", kind: "eigh", group: "linalg", dtype: "float64", description: "eigh of symmetric d×d", flopModel: nil),
        Workload(name: "fit-svd", kind: "fit-svd", group: "fit", dtype: "float64", description: "Projection.fit k=9 .svd of n×d", flopModel: nil),
        Workload(name: "fit-covariance", kind: "fit-covariance", group: "fit", dtype: "float64", description: "Projection.fit k=9 .covariance of n×d", flopModel: "n·d² (Gram)"),
        Workload(name: "fit-randomized", kind: "fit-randomized", group: "fit", dtype: "float64", description: "Projection.fit k=9 .randomized of n×d", flopModel: nil),
        Workload(name: "fit-svd-f32", kind: "fit-svd", group: "fit", dtype: "float32", description: "Projection.fit k=9 .svd of float32 n×d", flopModel: nil, inAll: false),
        Workload(name: "fit-covariance-f32", kind: "fit-covariance", group: "fit", dtype: "float32", description: "Projection.fit k=9 .covariance of float32 n×d", flopModel: "n·d² (Gram)", inAll: false),
        Workload(name: "fit-randomized-f32", kind: "fit-randomized", group: "fit", dtype: "float32", description: "Projection.fit k=9 .randomized of float32 n×d", flopModel: nil, inAll: false),
        Workload(name: "project", kind: "project", group: "apply", dtype: "float64", description: "Projection.project of n×d (k=9)", flopModel: nil),
        Workload(name: "project-f32", kind: "project", group: "apply", dtype: "float32", description: "Projection.project of float32 n×d (k=9)", flopModel: nil, inAll: false),
        Workload(name: "lift", kind: "lift", group: "apply", dtype: "float64", description: "Projection.lift(z, residual:) of n×d, exact inverse", flopModel: nil, inAll: false),
        Workload(name: "lift-core", kind: "lift-core", group: "apply", dtype: "float64", description: "Projection.lift(z) of n×9, rank-9 reconstruction", flopModel: nil, inAll: false),
        Workload(name: "cka", kind: "cka", group: "analysis", dtype: "float64", description: "linear CKA of two n×d", flopModel: "4n·d² (XᵀY, XᵀX, YᵀY)"),
        Workload(name: "frechet", kind: "frechet", group: "analysis", dtype: "float64", description: "Fréchet distance of two n×d", flopModel: "2n·d² (covariances only)"),
        Workload(name: "mmd", kind: "mmd", group: "analysis", dtype: "float64", description: "MMD² permutation test, two sets × d", flopModel: nil),
        Workload(name: "train-step", kind: "train-step", group: "train", dtype: "float32", description: "MLPDenoiser DDPM step + AdamW", flopModel: "6·batch·Σ in·out"),
        Workload(name: "ddpm-ancestral", kind: "ddpm-ancestral", group: "sampling", dtype: "float32", description: "DDPM ancestral (T = steps)", flopModel: sampling),
        Workload(name: "ddim", kind: "ddim", group: "sampling", dtype: "float32", description: "DDIM η=0 (T = 1000)", flopModel: sampling),
        Workload(name: "fm-euler", kind: "fm-euler", group: "sampling", dtype: "float32", description: "flow matching Euler", flopModel: sampling),
        Workload(name: "fm-rk4", kind: "fm-rk4", group: "sampling", dtype: "float32", description: "flow matching RK4", flopModel: sampling),
        Workload(name: "sde-em", kind: "sde-em", group: "sampling", dtype: "float32", description: "score SDE (VP) Euler–Maruyama", flopModel: sampling),
        Workload(name: "demo", kind: "demo", group: "demo", dtype: "-", description: "one whole `vst demo --quick` (subprocess)", flopModel: nil),
    ]

    /// The catalogue entry of a kind at a dtype (nil: that kind does not run in that dtype).
    static func entry(kind: String, dtype: String) -> Workload? {
        catalogue.first { $0.kind == kind && $0.dtype == dtype }
    }

    /// Kinds whose API takes Double only.
    static let doubleOnly: Set<String> = ["lift", "lift-core", "cka", "frechet", "mmd"]
    /// Kinds built on the float32 MLPDenoiser.
    static let floatOnly: Set<String> = ["train-step", "ddpm-ancestral", "ddim", "fm-euler", "fm-rk4", "sde-em"]

    /// Times one point: builds the inputs (outside the timing), resets the peak-RSS mark, runs `timing`.
    static func measure(_ kind: String, dtype: String, size d: Int, parameters p: WorkloadParameters, timing t: BenchTiming) throws -> Measurement {
        if doubleOnly.contains(kind) && dtype != "float64" { throw BenchError("workload \(kind): takes float64 only, not \(dtype)") }
        if floatOnly.contains(kind) && dtype != "float32" { throw BenchError("workload \(kind): runs in float32 only, not \(dtype)") }
        switch dtype {
        case "float32": return try measure(kind, Float.self, d, p, t)
        case "float64": return try measure(kind, Double.self, d, p, t)
        default: throw BenchError("--dtypes: unknown dtype '\(dtype)'; choose float32 or float64")
        }
    }

    /// Σ in·out over the network's weight matrices (a forward pass costs 2·rows·that in GEMMs).
    static func matrixMACs<S: BLASScalar>(_ params: [Variable<S>]) -> Double {
        params.filter { $0.value.rank == 2 }.reduce(0) { $0 + Double($1.value.count) }
    }

    private static func measure<S: BLASScalar>(_ kind: String, _: S.Type, _ d: Int, _ p: WorkloadParameters, _ t: BenchTiming) throws -> Measurement {
        let n = p.rows
        var memory = MemoryMark()
        func start() { memory = MemoryMark.start() }
        var m: Measurement
        switch kind {
        case "matmul":
            let a = Tensor<S>.normal([d, d], seed: 1), b = Tensor<S>.normal([d, d], seed: 2)
            start()
            m = Measurement(stats: try t.run { benchSink(try matmul(a, b)) }, shape: "\(d)x\(d)")
            m.gemmFlops = 2 * Double(d) * Double(d) * Double(d)
            m.throughput = m.gemmFlops! / m.stats.median; m.throughputUnit = "FLOP/s"
        case "gemm":
            let a = Tensor<S>.normal([d, d], seed: 1), b = Tensor<S>.normal([d, d], seed: 2)
            let c = UnsafeMutablePointer<S>.allocate(capacity: d * d)
            c.initialize(repeating: 0, count: d * d)
            defer { c.deallocate() }
            start()
            let stats = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let ap = pa.baseAddress!, bp = pb.baseAddress!
                    return t.run {
                        S.gemm(transA: false, transB: false, m: d, n: d, k: d, alpha: 1, a: ap, lda: d, b: bp, ldb: d, beta: 0, c: c, ldc: d)
                        benchSink(c)
                    }
                }
            }
            m = Measurement(stats: stats, shape: "\(d)x\(d)")
            m.gemmFlops = 2 * Double(d) * Double(d) * Double(d)
            m.throughput = m.gemmFlops! / m.stats.median; m.throughputUnit = "FLOP/s"
        case "exp", "silu", "add":
            let shape = p.squareElementwise ? [d, d] : [d]
            let x = Tensor<S>.normal(shape, seed: 3), y = Tensor<S>.normal(shape, seed: 4)
            start()
            let stats: BenchStats
            switch kind {
            case "exp": stats = t.run { benchSink(x.exp()) }
            case "silu": stats = t.run { benchSink(x.silu()) }
            default: stats = try t.run { benchSink(try x + y) }
            }
            m = Measurement(stats: stats, shape: shape.map(String.init).joined(separator: "x"))
            m.throughput = Double(x.count) / stats.median; m.throughputUnit = "elem/s"
        case "svd":
            let a = Tensor<S>.normal([d, d], seed: 5)
            start()
            m = Measurement(stats: try t.run { benchSink(try a.svd()) }, shape: "\(d)x\(d)")
        case "svd-tall":
            let a = Tensor<S>.normal([4 * d, d], seed: 6)
            start()
            m = Measurement(stats: try t.run { benchSink(try a.svd()) }, shape: "\(4 * d)x\(d)")
        case "eigh":
            let g = Tensor<S>.normal([d, d], seed: 7)
            let a = try g + g.transposed()
            start()
            m = Measurement(stats: try t.run { benchSink(try a.eigh()) }, shape: "\(d)x\(d)")
        case "fit-svd", "fit-covariance", "fit-randomized":
            let method: ProjectionMethod = kind == "fit-svd" ? .svd : kind == "fit-covariance" ? .covariance : .randomized
            let x: Tensor<S> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.fitSeeds)
            var last: Projection? = nil
            start()
            m = Measurement(stats: try t.run { last = try Projection.fit(x, options: ProjectionOptions(k: 9, method: method)) },
                            shape: "\(n)x\(d), k=9")
            if let fit = last {
                m.values["explained_variance"] = Array(fit.eigenvalues.prefix(9))
                m.values["total_variance"] = [fit.totalVariance]
            }
            if method == .covariance { m.gemmFlops = Double(n) * Double(d) * Double(d) }
            m.throughput = Double(n) / m.stats.median; m.throughputUnit = "rows/s"
        case "project", "lift", "lift-core":
            let x: Tensor<S> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.fitSeeds)
            let fit = try Projection.fit(x, options: ProjectionOptions(k: 9, method: .covariance))
            let shape = "\(n)x\(d), k=9"
            if kind == "project" {
                start()
                m = Measurement(stats: try t.run { benchSink(try fit.project(x)) }, shape: shape)
            } else {
                let z = try fit.project(x)
                if kind == "lift" {
                    let r = try fit.residual(x)
                    start()
                    m = Measurement(stats: try t.run { benchSink(try fit.lift(z, residual: r)) }, shape: shape)
                    let back = try fit.lift(z, residual: r)
                    let xd: Tensor<Double> = x.cast()
                    m.values["round_trip_error"] = [try (back - xd).norm() / xd.norm()]
                } else {
                    start()
                    m = Measurement(stats: try t.run { benchSink(try fit.lift(z)) }, shape: shape)
                }
            }
            m.throughput = Double(n) / m.stats.median; m.throughputUnit = "rows/s"
        case "cka":
            let x: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.ckaSeeds)
            let y = SyntheticData.perturbed(x, seed: SyntheticData.ckaNoiseSeed, scale: 0.5)
            var v = 0.0
            start()
            m = Measurement(stats: try t.run { v = try Alignment.linearCKA(x, y) }, shape: "2 × \(n)x\(d)")
            m.values["cka"] = [v]
            m.gemmFlops = 4 * Double(n) * Double(d) * Double(d)
        case "frechet":
            let a: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.frechetSeedsA)
            let b: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.frechetSeedsB)
            var v = 0.0
            start()
            m = Measurement(stats: try t.run { v = try Drift.frechetDistance(a, b) }, shape: "2 × \(n)x\(d)")
            m.values["frechet_distance"] = [v]
            m.gemmFlops = 2 * Double(n) * Double(d) * Double(d)
        case "mmd":
            let a: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.mmdSeedsA)
            let b: Tensor<Double> = SyntheticData.gapped(rows: n, d: d, seeds: SyntheticData.mmdSeedsB)
            var v = (mmd2: 0.0, pValue: 0.0, bandwidth2: 0.0)
            let perms = p.permutations
            start()
            m = Measurement(stats: try t.run { v = try Drift.mmdTest(a, b, permutations: perms) },
                            shape: "2 × \(n)x\(d), \(perms) permutations")
            m.values["mmd2"] = [v.mmd2]; m.values["p_value"] = [v.pValue]; m.values["bandwidth2"] = [v.bandwidth2]
        case "train-step":
            let hidden = Swift.max(256, d), batch = p.batch
            let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: d, hidden: hidden, blocks: 3), seed: 1)
            let model = try DDPM(denoiser: net, configuration: DDPMConfiguration())
            let params = net.parameters
            let opt = AdamW(parameters: params, learningRate: 1e-4)
            let x = Tensor<Float>.normal([batch, d], seed: 2)
            var g = RandomGenerator(seed: 3)
            start()
            let stats = try t.run {
                let loss = try model.loss(x0: x, using: &g)
                opt.zeroGrad()
                try loss.backward()
                clipGradientNorm(params, maxNorm: 1)
                try opt.step()
            }
            m = Measurement(stats: stats, shape: "batch \(batch), hidden \(hidden), \(net.parameterCount) params")
            m.gemmFlops = 6 * Double(batch) * matrixMACs(params)
            m.throughput = 1 / stats.median; m.throughputUnit = "steps/s"
        case "ddpm-ancestral", "ddim", "fm-euler", "fm-rk4", "sde-em":
            let hidden = Swift.max(256, d), rows = p.sampleRows, steps = p.sampleSteps
            let net = try MLPDenoiser<Float>(MLPDenoiserConfiguration(dimension: d, hidden: hidden, blocks: 3), seed: 1)
            net.isTraining = false
            let noise = SeededNoise(seed: 7)
            let sample: () throws -> SamplingResult<Float>
            switch kind {
            case "ddpm-ancestral":
                let model = try DDPM(denoiser: net, configuration: DDPMConfiguration(timesteps: steps))
                sample = { try model.sample(rows, noise: noise) }
            case "ddim":
                let model = try DDPM(denoiser: net, configuration: DDPMConfiguration())
                sample = { try model.sampleDDIM(rows, steps: steps, noise: noise) }
            case "fm-euler", "fm-rk4":
                let model = try FlowMatching(denoiser: net)
                let method: ODEMethod = kind == "fm-euler" ? .euler : .rk4
                sample = { try model.sample(rows, method: method, steps: steps, noise: noise) }
            default:
                let model = try ScoreSDEModel(denoiser: net)
                sample = { try model.sample(rows, sampler: .eulerMaruyama, steps: steps, noise: noise) }
            }
            let evaluations = try sample().evaluations
            start()
            let stats = try t.run { benchSink(try sample()) }
            m = Measurement(stats: stats, shape: "\(rows) samples, \(steps) steps, \(evaluations) evaluations, hidden \(hidden)")
            m.gemmFlops = 2 * Double(rows) * matrixMACs(net.parameters) * Double(evaluations)
            m.throughput = Double(rows) / stats.median; m.throughputUnit = "samples/s"
        default:
            throw BenchError("--workloads: no measurement for workload '\(kind)'")
        }
        memory.finish()
        m.memory = memory
        return m
    }
}
