// Training-step throughput of the MLP denoiser of issue #3, in Swift with Neural (forward + backward + Adam).
//
// Model: input x [256, d] concatenated with a 128-dim sinusoidal embedding of t, three hidden layers of width
// max(256, d) with SiLU, output d; loss MSE against a fixed noise target; Adam (lr 1e-4). The same step in
// PyTorch is Benchmarks/compare/torch_step.py, which also runs this executable and prints the ratios.
//
// Besides steps/s it times the step's gemm calls alone (the same 4 forward and 7 backward products, issued
// directly to BLAS on preallocated buffers) and the Adam update alone, so the time beyond the gemms, which is
// the tape's and the element-wise kernels' overhead, can be reported.
//
// Usage: NeuralStep [--dims 64,128,256,512,1024] [--threads N] [--elementwise-threads M] [--seconds S] [--json]
// BLAS threads and Linear's element-wise threads are both set to N (default: OPENBLAS_NUM_THREADS or 1).

import Foundation
import Linear
import Neural

struct Options {
    var dims = [64, 128, 256, 512, 1024]
    var threads = Int(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "") ?? 1
    var seconds = 2.0
    var json = false
    /// Threads for Linear's element-wise kernels (default: the same as BLAS).
    var elementwiseThreads: Int? = nil
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--dims": o.dims = (args.next() ?? "").split(separator: ",").compactMap { Int($0) }
        case "--threads": o.threads = Int(args.next() ?? "") ?? o.threads
        case "--seconds": o.seconds = Double(args.next() ?? "") ?? o.seconds
        case "--json": o.json = true
        case "--elementwise-threads": o.elementwiseThreads = Int(args.next() ?? "")
        default:
            FileHandle.standardError.write("NeuralStep: unknown argument \(a)\n".data(using: .utf8)!)
            exit(2)
        }
    }
    return o
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Median seconds per call of `body`, from blocks of calls filling about `seconds` after a warm-up.
func timePerCall(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<3 { try body() }
    let t0 = now()
    try body()
    let once = Swift.max(now() - t0, 1e-6)
    let perBlock = Swift.max(1, Int(seconds / 7 / once))
    var samples: [Double] = []
    for _ in 0..<7 {
        let s = now()
        for _ in 0..<perBlock { try body() }
        samples.append((now() - s) / Double(perBlock))
    }
    samples.sort()
    return samples[samples.count / 2]
}

let batch = 256, timeDim = 128
let options = parseOptions()
BLAS.threads = options.threads
Parallel.threads = options.elementwiseThreads ?? options.threads

var rows: [[String: Any]] = []
if !options.json {
    print("MLP denoiser training step (batch \(batch), time embedding \(timeDim), 3 hidden SiLU layers of max(256, d), Adam), \(options.threads) thread(s)")
    print("    d   hidden   params   steps/s   ms/step   gemm ms   adam ms   beyond gemm")
}
for d in options.dims {
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
    let stepTime = try timePerCall(seconds: options.seconds, step)
    let adamTime = try timePerCall(seconds: options.seconds / 4) { try opt.step() }

    // The same products issued directly: forward y = x·Wᵀ (4), backward ∂W = Gᵀ·x (4) and ∂x = G·W (3).
    let sizes = [d + timeDim, hidden, hidden, hidden, d]
    let bufs = (0..<5).map { Tensor<Float>.normal([batch, sizes[$0]], seed: UInt64($0)) }
    let weights = (0..<4).map { Tensor<Float>.normal([sizes[$0 + 1], sizes[$0]], seed: UInt64(10 + $0)) }
    let maxWidth = sizes.max()!
    let out = UnsafeMutablePointer<Float>.allocate(capacity: maxWidth * maxWidth + batch * maxWidth)
    out.initialize(repeating: 0, count: maxWidth * maxWidth + batch * maxWidth)
    defer { out.deallocate() }
    let gemmTime = timePerCall(seconds: options.seconds / 2) {
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
    }
    let beyond = (stepTime - gemmTime) / stepTime
    rows.append(["d": d, "hidden": hidden, "parameters": net.parameterCount, "threads": options.threads,
                 "steps_per_second": 1 / stepTime, "step_ms": stepTime * 1e3, "gemm_ms": gemmTime * 1e3,
                 "adam_ms": adamTime * 1e3, "beyond_gemm_fraction": beyond])
    if !options.json {
        print(String(format: "%5d %8d %8d %9.1f %9.3f %9.3f %9.3f %12.1f%%", d, hidden, net.parameterCount, 1 / stepTime,
                     stepTime * 1e3, gemmTime * 1e3, adamTime * 1e3, beyond * 100))
    }
}
if options.json {
    let data = try JSONSerialization.data(withJSONObject: ["swift": rows], options: [.sortedKeys])
    print(String(data: data, encoding: .utf8)!)
}
