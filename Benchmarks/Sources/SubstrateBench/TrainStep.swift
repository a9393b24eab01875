import ArgumentParser
import Foundation
import Generative
import Linear
import Neural

/// `substrate-bench train-step`: the families' training step (issue #17 item 2) with the time split into its parts.
///
/// The step is the suite's `train-step`: Generative's MLPDenoiser (hidden H = max(256, d), 3 residual blocks of
/// inner width 2H, time embedding 64 → H → H), batch 256, the DDPM ε loss (t and ε drawn per step), zero_grad,
/// backward, global gradient-norm clipping at 1, AdamW (lr 1e-4, λ 0.01). `Benchmarks/compare/train_step.py` runs
/// the same step in PyTorch eager and JAX jit beside it.
///
/// Besides steps/s it times, each on its own and on preallocated buffers: the step's GEMM calls (the 8 forward
/// products y = x·Wᵀ, the 8 weight gradients ∂W = Gᵀ·x and the 6 input gradients ∂x = G·W the step needs — the
/// network's input x_t and the sinusoidal features need none), the clipping, and the AdamW update. "Beyond GEMM"
/// is the step's time minus the GEMM time: everything element-wise plus the tape's bookkeeping.
struct TrainStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "MLPDenoiser DDPM training step (batch 256, clip, AdamW): steps/s and the GEMM/clip/AdamW split; JSON with --json.")

    @Option(help: "Comma-separated dimensions d.")
    var dims: String = "64,256,1024"

    @Option(help: "BLAS threads (default: OPENBLAS_NUM_THREADS, else 1).")
    var threads: Int = Int(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "") ?? 1

    @Option(help: "Threads for Linear's element-wise kernels (default: --threads).")
    var elementwiseThreads: Int?

    @Option(help: "Batch rows.")
    var batch: Int = 256

    @Option(help: "Measuring time per point in seconds (the step; a half for the GEMMs, a quarter for clip and AdamW).")
    var seconds: Double = 2

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let t = elementwiseThreads, t < 1 { throw ValidationError("--elementwise-threads must be at least 1, got \(t)") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        for v in benchList(dims) where (Int(v) ?? 0) < 1 { throw ValidationError("--dims: '\(v)' is not a positive integer") }
    }

    func timing(_ seconds: Double) -> BenchTiming { BenchTiming(reps: 7, warmup: 3, minRepTime: seconds / 7, maxTime: seconds) }

    /// The dense layers of the denoiser in forward order: (in, out, whether the step needs ∂x).
    static func layers(d: Int, hidden h: Int, blocks: Int, frequencies f: Int) -> [(k: Int, n: Int, dx: Bool)] {
        var out: [(Int, Int, Bool)] = [(f, h, false), (h, h, true), (d, h, false)]
        for _ in 0..<blocks { out += [(h, 2 * h, true), (2 * h, h, true)] }
        out.append((h, d, true))
        return out
    }

    func run() throws {
        let dims = benchList(self.dims).compactMap { Int($0) }
        BLAS.threads = threads
        Parallel.threads = elementwiseThreads ?? threads
        var rows: [[String: Any]] = []
        if !json {
            print("MLPDenoiser DDPM training step (batch \(batch), 3 residual blocks, clip 1, AdamW), \(threads) thread(s), core \(BLAS.coreName)")
            print("    d   hidden   params   steps/s   ms/step   gemm ms   clip ms   adamw ms   beyond gemm   GEMM GFLOP/s")
        }
        for d in dims {
            let hidden = Swift.max(256, d)
            let config = MLPDenoiserConfiguration(dimension: d, hidden: hidden, blocks: 3)
            let net = try MLPDenoiser<Float>(config, seed: 1)
            let model = try DDPM(denoiser: net, configuration: DDPMConfiguration())
            let params = net.parameters
            let opt = AdamW(parameters: params, learningRate: 1e-4)
            let x = Tensor<Float>.normal([batch, d], seed: 2)
            var g = RandomGenerator(seed: 3)
            let stepTime = try timing(seconds).run {
                let loss = try model.loss(x0: x, using: &g)
                opt.zeroGrad()
                try loss.backward()
                clipGradientNorm(params, maxNorm: 1)
                try opt.step()
            }.median
            // Clip (the norm exceeds 1 on these gradients, so it scales) and AdamW alone, on the last step's gradients.
            let clipTime = timing(seconds / 4).run { clipGradientNorm(params, maxNorm: 1e-9) }.median
            let adamTime = try timing(seconds / 4).run { try opt.step() }.median

            let layers = Self.layers(d: d, hidden: hidden, blocks: config.blocks, frequencies: config.timeFrequencies)
            let widest = layers.map { Swift.max($0.k, $0.n) }.max()!
            let acts = (0..<2).map { Tensor<Float>.normal([batch, widest], seed: UInt64(20 + $0)) }
            let weights = layers.enumerated().map { Tensor<Float>.normal([$0.element.n, $0.element.k], seed: UInt64(30 + $0.offset)) }
            let out = UnsafeMutablePointer<Float>.allocate(capacity: widest * widest * 2 + batch * widest)
            out.initialize(repeating: 0, count: widest * widest * 2 + batch * widest)
            defer { out.deallocate() }
            var flops = 0.0
            for l in layers { flops += 2 * Double(batch * l.k * l.n) * (l.dx ? 3 : 2) }
            let gemmTime = timing(seconds / 2).run {
                acts[0].withUnsafeBufferPointer { a in acts[1].withUnsafeBufferPointer { gr in
                    for (i, l) in layers.enumerated() {
                        weights[i].withUnsafeBufferPointer { w in
                            Float.gemm(transA: false, transB: true, m: batch, n: l.n, k: l.k, alpha: 1, a: a.baseAddress!, lda: l.k,
                                       b: w.baseAddress!, ldb: l.k, beta: 1, c: out, ldc: l.n)
                        }
                    }
                    for (i, l) in layers.enumerated().reversed() {
                        Float.gemm(transA: true, transB: false, m: l.n, n: l.k, k: batch, alpha: 1, a: gr.baseAddress!, lda: l.n,
                                   b: a.baseAddress!, ldb: l.k, beta: 0, c: out, ldc: l.k)
                        if l.dx {
                            weights[i].withUnsafeBufferPointer { w in
                                Float.gemm(transA: false, transB: false, m: batch, n: l.k, k: l.n, alpha: 1, a: gr.baseAddress!, lda: l.n,
                                           b: w.baseAddress!, ldb: l.k, beta: 0, c: out, ldc: l.k)
                            }
                        }
                    }
                } }
            }.median
            let beyond = (stepTime - gemmTime) / stepTime
            rows.append(["d": d, "hidden": hidden, "parameters": net.parameterCount, "threads": threads, "batch": batch,
                         "steps_per_second": 1 / stepTime, "step_ms": stepTime * 1e3, "gemm_ms": gemmTime * 1e3,
                         "clip_ms": clipTime * 1e3, "adamw_ms": adamTime * 1e3, "beyond_gemm_fraction": beyond,
                         "gemm_gflops": flops / gemmTime / 1e9, "step_gemm_flops": flops])
            if !json {
                print(String(format: "%5d %8d %8d %9.1f %9.3f %9.3f %9.3f %10.3f %12.1f%% %14.1f", d, hidden, net.parameterCount,
                             1 / stepTime, stepTime * 1e3, gemmTime * 1e3, clipTime * 1e3, adamTime * 1e3, beyond * 100,
                             flops / gemmTime / 1e9))
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
