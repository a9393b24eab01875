import Foundation
import Testing
import TestSupport

/// The layering rule of the package: `Linear` owns every BLAS/LAPACK call, raw allocation and thread pool; the
/// modules above it (`Neural`, `Generative`, `Substrate`, `vst`) use its Tensor API. These checks read the sources,
/// so a change that reaches under `Linear` fails here, not in review.
@Suite("Layering: only Linear talks to BLAS and LAPACK")
struct LayeringTests {
    /// Every Swift source file outside `Sources/Linear`, as (path relative to the repository, text).
    static func upperSources() throws -> [(path: String, text: String)] {
        let root = repoRoot()
        let sources = root.appendingPathComponent("Sources")
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: sources, includingPropertiesForKeys: nil) else { return [] }
        var files: [(String, String)] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let relative = String(url.path.dropFirst(root.path.count + 1))
            if relative.hasPrefix("Sources/Linear/") { continue }
            files.append((relative, try String(contentsOf: url, encoding: .utf8)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// Lines that call a `BLASScalar` routine directly (`S.gemm(`, `Double.geqrf(`, …), per file.
    static func rawCalls(in text: String) -> Int {
        let routines = "axpy|dot|gelsd|gemm|gemv|geqrf|ger|gesdd|gesvd|getrf|getri|getrs|nrm|orgqr|potrf|potrs|scal|syevd|syevr|syrk"
            + "|vexp|vlog|vtanh|vsigmoid|vsilu|vgelu"     // the vector-math kernels (libmvec through CLinear)
        return codeLines(matching: try! Regex("\\b(S|Scalar|Double|Float|T|Element)\\.(\(routines))\\("), in: text)
    }

    /// Lines of `text` that match `pattern`, comment lines excepted.
    static func codeLines(matching pattern: Regex<AnyRegexOutput>, in text: String) -> Int {
        text.split(separator: "\n").filter { line in
            let code = line.trimmingCharacters(in: .whitespaces)
            return !code.hasPrefix("//") && code.contains(pattern)
        }.count
    }

    /// The shrinking allow-list: every file above Linear where `count` finds something must be listed in `known`
    /// with at least that many lines, and every listed file must still have some (else it must leave the list).
    static func checkOnlyShrinks(_ count: (String) -> Int, known: [String: Int], listName: String, what: String, instead: String) throws {
        var seen: Set<String> = []
        for (path, text) in try upperSources() {
            let n = count(text)
            guard n > 0 else { continue }
            seen.insert(path)
            let allowed = known[path] ?? 0
            #expect(n <= allowed, "\(path) \(what) on \(n) lines (allowed \(allowed)): \(instead)")
        }
        for path in known.keys where !seen.contains(path) {
            Issue.record("\(path) no longer \(what): remove it from LayeringTests.\(listName)")
        }
    }

    @Test("no module but Linear imports the CLinear shim or calls cblas_/LAPACKE_ symbols")
    func noCLinearAbove() throws {
        let files = try Self.upperSources()
        #expect(files.count > 50, "found only \(files.count) source files: is the repository root right?")
        for (path, text) in files {
            #expect(!text.contains("import CLinear"), "\(path) imports CLinear: call Linear's API instead")
            #expect(!text.contains("cblas_"), "\(path) names a cblas_ routine")
            #expect(!text.contains("LAPACKE_"), "\(path) names a LAPACKE_ routine")
        }
    }

    /// Direct `BLASScalar` calls above Linear (BLAS/LAPACK and the vector-math routines) that are still to be moved
    /// into Linear. Empty, and it may only stay so: a file with such a call fails. Every one is made inside Linear
    /// (the row-block kernels of Substrate are `RowBlockKernels`, the thin centred QR `centeredTriangularFactor`,
    /// the dense layer's product `affine`, the RBF kernel's in-place exp `formExp`, the row softmax `softmax`, the
    /// activations' gradients `siluGradient`/`geluGradient`/`reluGradient`, the randomized eigensolver
    /// `SubspaceIteration`).
    static let knownRawCalls: [String: Int] = [:]

    @Test("direct BLAS/LAPACK routine calls above Linear only shrink")
    func rawCallsOnlyShrink() throws {
        #expect(Self.rawCalls(in: "    S.gemm(transA: false, transB: true, m: m,") == 1, "the pattern no longer matches a BLAS call")
        try Self.checkOnlyShrinks(Self.rawCalls(in:), known: Self.knownRawCalls, listName: "knownRawCalls",
                                  what: "calls BLAS/LAPACK routines directly", instead: "use Tensor operations or add the kernel to Linear")
    }

    /// Lines that allocate raw memory (`UnsafeMutablePointer<T>.allocate(capacity:)`, `.allocate(capacity:)` on an
    /// inferred pointer type, `UnsafeMutableRawPointer.allocate(byteCount:alignment:)`), per file.
    static func rawAllocations(in text: String) -> Int {
        codeLines(matching: try! Regex("\\.allocate\\((capacity|byteCount):"), in: text)
    }

    /// Raw allocations above Linear still to be replaced (by Tensor or Array buffers, or a kernel in Linear). The
    /// count may only fall, like `knownRawCalls`. Empty: the modules above Linear use Tensor and Array buffers.
    static let knownRawAllocations: [String: Int] = [:]

    @Test("raw allocations (UnsafeMutablePointer.allocate) above Linear only shrink")
    func rawAllocationsOnlyShrink() throws {
        #expect(Self.rawAllocations(in: "let b = UnsafeMutablePointer<Double>.allocate(capacity: 8)") == 1, "the pattern no longer matches an allocation")
        #expect(Self.rawAllocations(in: "let f: UnsafeMutablePointer<Float>? = .allocate(capacity: 2 * d)") == 1)
        #expect(Self.rawAllocations(in: "// UnsafeMutablePointer<Double>.allocate(capacity: 8)") == 0)
        try Self.checkOnlyShrinks(Self.rawAllocations(in:), known: Self.knownRawAllocations, listName: "knownRawAllocations",
                                  what: "allocates raw memory", instead: "use a Tensor or Array buffer, or add the kernel to Linear")
    }

    /// Benchmarks are tooling, not product: they live in `substrate-bench` (Benchmarks/Sources/SubstrateBench). A
    /// benchmark file, subcommand or the measuring machinery coming back under Sources/ fails here.
    @Test("no benchmark code in the product: Sources/vst and the modules hold no bench command or timing machinery")
    func noBenchmarksInSources() throws {
        let files = try Self.upperSources()
        #expect(files.contains { $0.path.hasPrefix("Sources/vst/") }, "no Sources/vst files found: is the repository root right?")
        for (path, text) in files {
            let name = (path as NSString).lastPathComponent.lowercased()
            #expect(!name.hasPrefix("bench"), "\(path): benchmark code belongs in Benchmarks/Sources/SubstrateBench")
            #expect(!text.contains("commandName: \"bench"), "\(path) defines a bench subcommand: add the workload to substrate-bench")
            for symbol in ["BenchTiming", "BenchChild", "benchSink(", "SyntheticData."] {
                #expect(!text.contains(symbol), "\(path) uses the benchmark machinery (\(symbol)): it belongs in substrate-bench")
            }
        }
        let bench = repoRoot().appendingPathComponent("Benchmarks/Sources/SubstrateBench/Workloads.swift")
        #expect(FileManager.default.fileExists(atPath: bench.path), "the benchmark catalogue moved: update this check")
    }

    @Test("training mode is stored in one place: ModuleBase; no library module declares its own isTraining")
    func trainingModeInOnePlace() throws {
        let files = try Self.upperSources()
        let declaring = files.filter { $0.text.contains("var isTraining") }.map(\.path)
        #expect(declaring == ["Sources/Neural/Module.swift"], "isTraining declared in \(declaring): inherit ModuleBase instead")
    }

    /// Threads start in one place, `Linear.Parallel` (`forChunks`, `perform`): the modules above it neither import
    /// Dispatch's pools nor spawn threads, so the thread policy (and the Swift 6 concurrency reasoning behind
    /// `perform`'s non-escaping body) lives in one file.
    @Test("threads start only in Linear.Parallel: no DispatchQueue, Thread or Task above Linear")
    func threadsOnlyInLinear() throws {
        for (path, text) in try Self.upperSources() {
            for symbol in ["DispatchQueue", "DispatchGroup", "Thread(", "Thread.detachNewThread", "pthread_create", "Task {", "Task.detached"] {
                #expect(!text.contains(symbol), "\(path) uses \(symbol): run the work through Parallel.perform or Parallel.forChunks")
            }
        }
    }
}
