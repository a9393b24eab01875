import ArgumentParser
import Foundation
import Linear
import Neural

/// `substrate-bench neural-step`: training-step throughput of the plain MLP denoiser of issue #3, in Swift with
/// Neural (forward + backward + Adam). `Benchmarks/compare/torch_step.py` runs the same step in PyTorch beside it.
///
/// Model: input x [256, d] concatenated with a 128-dim sinusoidal embedding of t, three hidden layers of width
/// max(256, d) with SiLU, output d; loss MSE against a fixed noise target; Adam (lr 1e-4). Besides steps/s it times
/// the step's GEMM calls alone (the same 4 forward and 7 backward products, issued directly to BLAS on preallocated
/// buffers) and the Adam update alone, so the time beyond the GEMMs — the tape's and the element-wise kernels'
/// overhead — is reported. (The suite's `train-step` is the families' MLPDenoiser with DDPM loss and AdamW; this is
/// the smaller model PyTorch is compared on, with the GEMM breakdown.)
struct NeuralStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neural-step",
        abstract: "MLP-denoiser training step (batch 256): steps/s, GEMM-only and Adam-only time; JSON with --json.")

    @Option(help: "Comma-separated dimensions d.")
    var dims: String = "64,128,256,512,1024"

    @Option(help: "BLAS threads (default: OPENBLAS_NUM_THREADS, else 1).")
    var threads: Int = Int(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "") ?? 1

    @Option(help: "Threads for Linear's element-wise kernels (default: --threads).")
    var elementwiseThreads: Int?

    @Option(help: "Measuring time per point in seconds (the step; a half for the GEMMs, a quarter for Adam).")
    var seconds: Double = 2

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let t = elementwiseThreads, t < 1 { throw ValidationError("--elementwise-threads must be at least 1, got \(t)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        for v in benchList(dims) where (Int(v) ?? 0) < 1 { throw ValidationError("--dims: '\(v)' is not a positive integer") }
    }

    /// The suite's measuring loop: 3 warm-up calls, 7 repetitions of an inner loop of ≥ seconds/7, median per call.
    func timing(_ seconds: Double) -> BenchTiming {
        BenchTiming(reps: 7, warmup: 3, minRepTime: seconds / 7, maxTime: seconds)
    }

    func run() throws {
        let batch = 256, timeDim = 128
        let dims = benchList(self.dims).compactMap { Int($0) }
        BLAS.threads = threads
        Parallel.threads = elementwiseThreads ?? threads
        var rows: [[String: Any]] = []
        if !json {
            print("MLP denoiser training step (batch \(batch), time embedding \(timeDim), 3 hidden SiLU layers of max(256, d), Adam), \(threads) thread(s)")
            print("    d   hidden   params   steps/s   ms/step   gemm ms   adam ms   beyond gemm")
        }
        for d in dims {
            let hidden = Swift.max(256, d)
            var g = RandomGenerator(seed: UInt64(d))
            let net = MLP<Float>(sizes: [d + timeDim, hidden, hidden, hidden, d], activation: .silu, using: &g)
            let opt = Adam(parameters: net.parameters, learningRate: 1e-4)
            let x = Variable(Tensor<Float>.normal([batch, d], using: &g))
            let t = Variable(Tensor<Float>.uniform([batch], low: 0, high: 1000, using: &g))
            let target = Variable(Tensor<Float>.normal([batch, d], using: &g))

            func step() throws {
                let emb = try noGrad { try sinusoidalEmbedding(t, dimension: timeDim) }
                let input = try Variable.concatenate([x, emb], axis: 1)
                let loss = try Loss.mse(net(input), target)
                opt.zeroGrad()
                try loss.backward()
                try opt.step()
            }
            let stepTime = try timing(seconds).run(step).median
            let adamTime = try timing(seconds / 4).run { try opt.step() }.median

            // The same products issued directly: forward y = x·Wᵀ (4), backward ∂W = Gᵀ·x (4) and ∂x = G·W (3).
            let sizes = [d + timeDim, hidden, hidden, hidden, d]
            let bufs = (0..<5).map { Tensor<Float>.normal([batch, sizes[$0]], seed: UInt64($0)) }
            let weights = (0..<4).map { Tensor<Float>.normal([sizes[$0 + 1], sizes[$0]], seed: UInt64(10 + $0)) }
            let maxWidth = sizes.max()!
            let out = UnsafeMutablePointer<Float>.allocate(capacity: maxWidth * maxWidth + batch * maxWidth)
            out.initialize(repeating: 0, count: maxWidth * maxWidth + batch * maxWidth)
            defer { out.deallocate() }
            let gemmTime = timing(seconds / 2).run {
                for l in 0..<4 {
                    let k = sizes[l], n = sizes[l + 1]
                    bufs[l].withUnsafeBufferPointer { a in weights[l].withUnsafeBufferPointer { w in
                        Float.gemm(transA: false, transB: true, m: batch, n: n, k: k, alpha: 1, a: a.baseAddress!, lda: k,
                                   b: w.baseAddress!, ldb: k, beta: 1, c: out, ldc: n)
                    } }
                }
                for l in 0..<4 {
                    let k = sizes[l], n = sizes[l + 1]
                    bufs[l + 1].withUnsafeBufferPointer { gr in bufs[l].withUnsafeBufferPointer { a in
                        Float.gemm(transA: true, transB: false, m: n, n: k, k: batch, alpha: 1, a: gr.baseAddress!, lda: n,
                                   b: a.baseAddress!, ldb: k, beta: 0, c: out, ldc: k)
                    } }
                    if l > 0 {
                        bufs[l + 1].withUnsafeBufferPointer { gr in weights[l].withUnsafeBufferPointer { w in
                            Float.gemm(transA: false, transB: false, m: batch, n: k, k: n, alpha: 1, a: gr.baseAddress!, lda: n,
                                       b: w.baseAddress!, ldb: k, beta: 0, c: out, ldc: k)
                        } }
                    }
                }
            }.median
            let beyond = (stepTime - gemmTime) / stepTime
            rows.append(["d": d, "hidden": hidden, "parameters": net.parameterCount, "threads": threads,
                         "steps_per_second": 1 / stepTime, "step_ms": stepTime * 1e3, "gemm_ms": gemmTime * 1e3,
                         "adam_ms": adamTime * 1e3, "beyond_gemm_fraction": beyond])
            if !json {
                print(String(format: "%5d %8d %8d %9.1f %9.3f %9.3f %9.3f %12.1f%%", d, hidden, net.parameterCount, 1 / stepTime,
                             stepTime * 1e3, gemmTime * 1e3, adamTime * 1e3, beyond * 100))
            }
        }
        if json {
            let env = BenchEnvironment.current()
            let data = try JSONSerialization.data(withJSONObject: ["swift": rows, "environment": ["coreName": env.coreName,
                "blasConfiguration": env.blasConfiguration, "variables": env.variables]], options: [.sortedKeys])
            print(String(data: data, encoding: .utf8)!)
        }
    }
}
