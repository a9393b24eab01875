import ArgumentParser
import Foundation
import Linear
import Substrate

extension ProjectionMethod: ExpressibleByArgument {}
extension RandomizedOperator: ExpressibleByArgument {}

/// Rows of every input file, a block at a time (.npy streams from disk; other formats load whole).
enum RowBlocks {
    /// Rows per block: about 2²¹ elements (16 MB in Double), below glibc's mmap threshold so blocks reuse memory.
    static func blockRows(_ d: Int) -> Int { Swift.max(64, (1 << 21) / Swift.max(1, d)) }

    static func forEach(_ path: String, key: String?, _ body: (Tensor<Double>) throws -> Void) throws {
        try forEach(path, key: key, as: Double.self, body)
    }

    /// Blocks of rows read as `S` (Float keeps a float32 file in single precision, halving memory traffic).
    static func forEach<S: BLASScalar>(_ path: String, key: String?, as _: S.Type, _ body: (Tensor<S>) throws -> Void) throws {
        if path.lowercased().hasSuffix(".npy") {
            let r = try NPYReader(path)
            guard r.shape.count == 2 else { throw InputError("\(path): expected an n×D matrix, got shape \(r.shape)") }
            let block = blockRows(r.shape[1])
            var start = 0
            while start < r.rowCount {
                let end = Swift.min(r.rowCount, start + block)
                let x: Tensor<S> = try r.rows(start..<end)
                do { try x.checkFinite("rows") } catch let TensorError.nonFinite(count, first, _) {
                    throw InputError("\(path): \(count) non-finite values in rows \(start)..<\(end), first at row \(start + first[0]), column \(first[1])")
                }
                try body(x)
                start = end
            }
        } else {
            try body(Inputs.matrix(path, key: key, minRows: 1).cast())
        }
    }

    /// The first `rows` rows of a file (all of them when it has fewer).
    static func first(_ path: String, key: String?, rows: Int) throws -> Tensor<Double> {
        if path.lowercased().hasSuffix(".npy") {
            let r = try NPYReader(path)
            return try r.rows(0..<Swift.min(rows, r.rowCount))
        }
        let x = try Inputs.matrix(path, key: key, minRows: 1)
        return x.shape[0] > rows ? try x.slice(0..<rows) : x
    }

    /// True when every input is a .npy file of single-precision floats.
    static func allSinglePrecision(_ paths: [String]) -> Bool {
        paths.allSatisfy { $0.lowercased().hasSuffix(".npy") && ((try? NPYReader($0))?.storesSinglePrecision ?? false) }
    }

    static func dimension(_ path: String, key: String?) throws -> Int {
        if path.lowercased().hasSuffix(".npy") {
            let r = try NPYReader(path)
            guard r.shape.count == 2 else { throw InputError("\(path): expected an n×D matrix, got shape \(r.shape)") }
            return r.shape[1]
        }
        return try Inputs.matrix(path, key: key, minRows: 1).shape[1]
    }
}

struct FitProjection: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-projection",
        abstract: "Fit an invertible projection into a k-dimensional core (default 9) on the rows of one or more files.",
        discussion: """
        All inputs must have the same width D; their rows are pooled. --method covariance streams .npy files in blocks \
        (memory independent of n). With --stats-only the shard's mergeable statistics (n, mean, scatter) are written \
        instead, for `vst merge-stats`.
        Example: vst fit-projection latents.npy --rank 9 --out projection.safetensors
        """)

    @Argument(help: "Input files (.npy, .safetensors, .csv): n×D states.") var inputs: [String]
    @Option(name: .long, help: "Core size k.") var rank: Int = 9
    @Option(help: "svd | covariance | randomized") var method: ProjectionMethod = .svd
    @Option(help: ArgumentHelp("randomized method: automatic | covariance | streamed (how X_cᵀX_c is applied; the same iteration, a different cost).",
                               discussion: "covariance forms the D×D matrix in one read of the data; streamed reads the data q + 2 times and never forms it; automatic picks the cheaper by a cost model."))
    var randomizedOperator: RandomizedOperator = .automatic
    @Option(help: "Output .safetensors file (projection, or statistics with --stats-only).") var out: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Flag(help: "Write this shard's mergeable statistics instead of a projection.") var statsOnly = false
    @Flag(help: "Do not subtract the mean.") var noCenter = false
    @Flag(help: "Divide each feature by its standard deviation first.") var standardize = false
    @Flag(help: "Project to whitened coordinates z/√λ.") var whiten = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input file") }
        if rank < 1 { throw ValidationError("--rank must be at least 1, got \(rank)") }
        if statsOnly && (standardize || noCenter) { throw ValidationError("--stats-only keeps raw statistics; --standardize/--no-center apply when fitting") }
        if randomizedOperator != .automatic && method != .randomized {
            throw ValidationError("--randomized-operator applies to --method randomized only (method is \(method.rawValue))")
        }
    }

    func run() throws {
        try Outputs.checkReplaceable(out)
        if let dir = output.report { try StagedReport.check(dir, force: output.force) }
        Outputs.removeStaleTemporaries(besides: out)
        if statsOnly || method == .covariance && !standardize {
            let d = try RowBlocks.dimension(inputs[0], key: key)
            guard d >= 1 else { throw InputError("\(inputs[0]): has no columns (D = 0); need n×D states with D ≥ 1") }
            var stats = CovarianceStatistics(dimension: d)
            // float32 files are widened to Double (exact) before the products: the statistics then agree with a
            // float64 reference on the same values to Double rounding (measured 2e-15), where products formed in
            // Float agreed only to ~1e-7 (CovarianceStatistics' Float path stays for callers who want its speed).
            for path in inputs {
                let dd = try RowBlocks.dimension(path, key: key)
                guard dd == d else { throw InputError("\(path): has D = \(dd) but \(inputs[0]) has D = \(d)") }
                try RowBlocks.forEach(path, key: key) { try stats.add($0, chunk: RowBlocks.blockRows(d)) }
            }
            if statsOnly {
                try stats.save(out, overwrite: output.force, source: inputs.joined(separator: ","))
                Outputs.emit(.object([("n", .int(stats.count)), ("d", .int(d)), ("out", .string(out))]),
                             table: "wrote statistics of \(stats.count) rows × \(d) features to \(out)", options: output)
                return
            }
            guard stats.count >= 2 else { throw InputError("\(inputs.joined(separator: ", ")): need at least 2 rows to fit, got \(stats.count)") }
            var o = ProjectionOptions(k: rank, method: .covariance)
            o.center = !noCenter; o.whiten = whiten; o.seed = output.seed
            guard rank <= d else { throw InputError("--rank \(rank) exceeds the dimension D = \(d)") }
            var p = try Projection.fit(statistics: stats, options: o)
            p.metadata["source"] = inputs.joined(separator: ",")
            // Round-trip error on the first block of the first file (the whole corpus may not fit in memory).
            try finish(p, roundTrip: p.roundTripError(RowBlocks.first(inputs[0], key: key, rows: 8192)))
            return
        }
        if RowBlocks.allSinglePrecision(inputs) {
            // float32 files stay in single precision (the randomized sketch then runs in sgemm).
            try fitInMemory(inputs.map { try NPY.read($0).tensor(Float.self) })
        } else {
            try fitInMemory(inputs.map { try Inputs.matrix($0, key: key, minRows: 1) })
        }
    }

    func fitInMemory<S: BLASScalar>(_ parts: [Tensor<S>]) throws {
        let d = parts[0].rank == 2 ? parts[0].shape[1] : 0
        for (path, x) in zip(inputs, parts) where x.rank != 2 || x.shape[1] != d {
            throw InputError("\(path): has shape \(x.shape) but \(inputs[0]) has D = \(d)")
        }
        guard d >= 1 else { throw InputError("\(inputs[0]): has no columns (D = 0); need n×D states with D ≥ 1") }
        let x = parts.count == 1 ? parts[0] : try Tensor.concatenate(parts)
        guard x.shape[0] >= 2 else { throw InputError("\(inputs.joined(separator: ", ")): need at least 2 rows to fit, got \(x.shape[0])") }
        guard rank <= d else { throw InputError("--rank \(rank) exceeds the dimension D = \(d)") }
        do { try x.checkFinite("states") } catch let TensorError.nonFinite(count, first, _) {
            throw InputError("\(inputs.count == 1 ? inputs[0] : "inputs"): \(count) non-finite values (NaN or ±Inf), first at row \(first[0]), column \(first[1])")
        }
        var o = ProjectionOptions(k: rank, method: method)
        o.center = !noCenter; o.standardize = standardize; o.whiten = whiten; o.seed = output.seed
        o.randomizedOperator = randomizedOperator
        var p = try Projection.fit(x, options: o)
        p.metadata["source"] = inputs.joined(separator: ",")
        // The round trip is a check of the numerics, measured on the first rows (up to 8192) to keep large fits cheap.
        try finish(p, roundTrip: p.roundTripError(x.shape[0] > 8192 ? x.slice(0..<8192) : x))
    }

    func finish(_ p: Projection, roundTrip: Double) throws {
        let json = p.report(roundTripError: roundTrip)
        // The report is staged first and moved into place after the projection, which is removed again if that
        // fails: a failed command leaves neither a partial report nor a projection that makes the rerun refuse.
        var staged: StagedReport? = nil
        if let dir = output.report {
            var page = HTMLReport(title: "Projection into a \(p.k)-D core", subtitle: "\(inputs.joined(separator: ", ")): n = \(p.n), D = \(p.dimension), method \(p.method.rawValue)")
            let ev = p.explainedVarianceRatio.prefix(64).enumerated().map { (Double($0.offset + 1), $0.element) }
            var cum = 0.0
            let cumulative = p.explainedVarianceRatio.prefix(64).enumerated().map { (i, r) -> (Double, Double) in cum += r; return (Double(i + 1), cum) }
            page.add("Explained variance", "The share of variance along each direction (and cumulatively). The core keeps the first \(p.k); the dashed line marks E_9.",
                     svg: SVGPlot.line(title: "Explained variance ratio", xLabel: "component", yLabel: "ratio",
                                       series: [SVGPlot.Series("per component", ev), SVGPlot.Series("cumulative", cumulative)],
                                       hLines: [(p.coreEnergy[9] ?? 0, "E₉")]), file: "explained_variance")
            staged = try StagedReport.stage(dir, force: output.force) { try page.write(to: $0, json: json, overwrite: true) }
        }
        do { try p.save(out, overwrite: output.force) } catch { staged?.discard(); throw error }
        do { try staged?.commit() } catch { unlink(out); throw error }
        Outputs.emit(json, table: Fmt.table(["quantity", "value"], [
            ["n × D", "\(p.n) × \(p.dimension)"], ["core size k", "\(p.k)"], ["method", p.method.rawValue],
            ["E₃ / E₆ / E₉", Ladder.cores.map { Fmt.f(p.coreEnergy[$0], 4) }.joined(separator: " / ")],
            ["top explained-variance ratios", p.explainedVarianceRatio.prefix(p.k).map { Fmt.f($0, 3) }.joined(separator: " ")],
            ["round-trip error", Fmt.f(roundTrip, 3)], ["orthonormality error", Fmt.f(p.orthonormalityError, 3)], ["written", out],
        ]), options: output)
    }
}

struct MergeStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-stats",
        abstract: "Merge shard statistics from `fit-projection --stats-only` into one projection (or merged statistics).",
        discussion: "Example (map-reduce): on each machine `vst fit-projection shard_i.npy --stats-only --out s_i.safetensors`, then `vst merge-stats s_*.safetensors --out projection.safetensors`.")

    @Argument(help: "Statistics files.") var inputs: [String]
    @Option(help: "Output projection (.safetensors).") var out: String
    @Option(name: .long, help: "Core size k.") var rank: Int = 9
    @Flag(help: "Write the merged statistics instead of a projection.") var statsOnly = false
    @Flag(help: "Project to whitened coordinates z/√λ.") var whiten = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one statistics file") }
        try Outputs.checkReplaceable(out)
        Outputs.removeStaleTemporaries(besides: out)
        var merged = try CovarianceStatistics.load(inputs[0])
        for path in inputs.dropFirst() {
            let s = try CovarianceStatistics.load(path)
            guard s.dimension == merged.dimension else { throw InputError("\(path): has D = \(s.dimension) but \(inputs[0]) has D = \(merged.dimension)") }
            do { try merged.merge(s) } catch let e as TensorError {
                throw InputError("\(path): cannot be merged with \(inputs.prefix { $0 != path }.joined(separator: ", ")): \(e)")
            }
        }
        guard merged.count >= 2 || statsOnly else {
            throw InputError("\(inputs.joined(separator: ", ")): the statistics hold \(merged.count) row\(merged.count == 1 ? "" : "s"); need at least 2 to fit")
        }
        if statsOnly {
            try merged.save(out, overwrite: output.force, source: inputs.joined(separator: ","))
            Outputs.emit(.object([("n", .int(merged.count)), ("d", .int(merged.dimension)), ("shards", .int(inputs.count))]),
                         table: "merged \(inputs.count) shards: \(merged.count) rows × \(merged.dimension) features → \(out)", options: output)
            return
        }
        guard rank >= 1, rank <= merged.dimension else { throw InputError("--rank \(rank) must be in 1...\(merged.dimension)") }
        var o = ProjectionOptions(k: rank, method: .covariance)
        o.whiten = whiten; o.seed = output.seed
        var p: Projection
        do { p = try Projection.fit(statistics: merged, options: o) } catch let e as TensorError {
            throw InputError("\(inputs.joined(separator: ", ")): the merged statistics cannot be fitted: \(e)")
        }
        guard p.eigenvalues.allSatisfy(\.isFinite), p.totalVariance.isFinite else {
            throw InputError("\(inputs.joined(separator: ", ")): the merged statistics give non-finite variances (a scatter too large for Double?)")
        }
        p.metadata["source"] = inputs.joined(separator: ",")
        try p.save(out, overwrite: output.force)
        var json = p.report(roundTripError: .nan)
        if case var .object(pairs) = json { pairs.append(("shards", .int(inputs.count))); json = .object(pairs) }
        Outputs.emit(json, table: Fmt.table(["quantity", "value"], [
            ["shards", "\(inputs.count)"], ["n × D", "\(p.n) × \(p.dimension)"], ["core size k", "\(p.k)"],
            ["E₃ / E₆ / E₉", Ladder.cores.map { Fmt.f(p.coreEnergy[$0], 4) }.joined(separator: " / ")], ["written", out],
        ]), options: output)
    }
}

struct Project: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Project states into the core of a fitted projection (batch: many files in one call).",
        discussion: """
        Writes <name>.core.npy (n×k) for each input (and <name>.residual.npy with --residual), or to --out for a single \
        input. Under --out-dir the outputs mirror the inputs' paths relative to their common parent directory: \
        shard_0/latents.npy and shard_1/latents.npy give OUT/shard_0/latents.core.npy and OUT/shard_1/latents.core.npy; \
        inputs in one directory give OUT/<name>.core.npy. Two inputs that would still share an output (a.npy and a.csv) \
        are refused before anything is written. .npy inputs stream in blocks, so files bigger than memory work. Every \
        output is written to a temporary file (.<output>.tmp-<pid>-<random>) and moved into place when complete, so an \
        interrupted run never leaves a partial output. SIGINT/SIGTERM abandon the file in progress (its temporary file \
        is removed) and exit 130/143; rerun with --resume to skip the outputs that are already complete (a .npy of the \
        expected shape and dtype) and to remove temporary files of runs that died (SIGKILL, power loss): each is \
        reported on stderr; those of a process still running are left alone. Existing outputs are replaced only with \
        --force, and only when they are regular files.
        Example: vst project --projection p.safetensors shard_0/latents.npy shard_1/latents.npy --out-dir cores/ --resume
        """)

    @Option(help: "Projection file from fit-projection.") var projection: String
    @Argument(help: "Input files (n×D).") var inputs: [String]
    @Option(help: "Output file (single input only).") var out: String?
    @Option(help: "Output directory: one <name>.core.npy per input, at the input's path relative to the inputs' common parent directory.")
    var outDir: String?
    @Flag(help: "Also write the residual coordinates (n×(D−k)), so `lift` can invert exactly.") var residual = false
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Flag(help: "Skip inputs whose outputs already exist and are complete (continue an interrupted run).") var resume = false
    @Option(help: "Element type of the outputs: float32 | float64 (default: the input's, float32 for float16/bfloat16/float32 inputs, else float64).")
    var dtype: OutputDType?
    @OptionGroup var output: WriteOptions
    /// Removed (it wrote nothing): kept hidden so that passing it gets a clear refusal.
    @Option(help: .hidden) var report: String?

    func validate() throws {
        if report != nil { throw ValidationError("--report: project writes its outputs and no report (the option was removed)") }
        if inputs.isEmpty { throw ValidationError("give at least one input file") }
        if out == nil && outDir == nil { throw ValidationError("give --out (one input) or --out-dir") }
        if out != nil && outDir != nil { throw ValidationError("give --out (one input) or --out-dir, not both") }
        if out != nil && inputs.count > 1 { throw ValidationError("--out takes one input; use --out-dir for \(inputs.count) files") }
        if resume && output.force { throw ValidationError("--resume keeps complete outputs and --force overwrites them; give one") }
    }

    /// The output paths (without the `.core.npy` suffix) of `inputs` under `dir`: each input's path relative to the
    /// common parent directory of all inputs (absolute, with `.` and `..` resolved), its extension dropped.
    static func mirroredStems(_ inputs: [String], under dir: String) -> [String] {
        let parts = inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.pathComponents }
        let parents = parts.map { Array($0.dropLast()) }
        var common = parents[0]
        for p in parents.dropFirst() {
            var i = 0
            while i < Swift.min(common.count, p.count) && common[i] == p[i] { i += 1 }
            common = Array(common.prefix(i))
        }
        return zip(inputs, parents).map { path, parent in
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            return (Array(parent.dropFirst(common.count)) + [stem]).reduce(dir) { ($0 as NSString).appendingPathComponent($1) }
        }
    }

    /// The element type an input's outputs get by default: float32 when the input stores float16/bfloat16/float32.
    static func inputDType(_ path: String, key: String?) -> DType {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return (try? NPYReader(path))?.storesSinglePrecision == true ? .float32 : .float64 }
        if lower.hasSuffix(".safetensors"), let file = try? SafetensorsFile.read(path) {
            let name = key ?? (file.tensors.count == 1 ? file.tensors.keys.first : nil)
            if let name, let t = file.tensors[name], t.dtype == .float32 { return .float32 }
        }
        return .float64
    }

    /// True when `path` is a complete output: a C-order .npy of `dtype` whose header has exactly `shape` and whose
    /// size matches it (outputs are moved into place only when finished, so this is the only state a file of ours
    /// can be in; anything else at that path is not ours and is refused).
    static func isComplete(_ path: String, shape: [Int], dtype: DType = .float64) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        try Outputs.checkReplaceable(path)
        guard let r = try? NPYReader(path), r.shape == shape, dtype == .float64 ? r.storesDouble : r.storesSinglePrecision else {
            throw InputError("\(path): exists but is not a complete \(shape) \(dtype.rawValue) .npy output; remove it or rerun with --force")
        }
        return true
    }

    /// Removes the temporary files (.<name>.tmp-<pid>-<random>) that a dead run (SIGKILL, power loss) left beside
    /// `target`, reporting each on stderr. A temporary file of a process that is still running (another `vst`
    /// writing the same output) is left alone and reported; names of any other form are not ours and not touched.
    static func removeStaleTemporaries(of target: String) {
        Outputs.removeStaleTemporaries(besides: target)
    }

    func run() throws {
        let p = try Projection.load(projection)
        // Every target first: mirrored paths, no two alike, none an input, none a non-regular file.
        let stems: [String]
        if let out {
            let residualStem = out.hasSuffix(".core.npy") ? String(out.dropLast(9)) : (out as NSString).deletingPathExtension
            stems = [residualStem]
        } else {
            stems = Self.mirroredStems(inputs, under: outDir!)
        }
        let cores = out.map { [$0] } ?? stems.map { $0 + ".core.npy" }
        let residuals = stems.map { $0 + ".residual.npy" }
        var owner: [String: String] = [:]
        let standardInputs = Set(inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        for (i, path) in inputs.enumerated() {
            for target in [cores[i]] + (residual ? [residuals[i]] : []) {
                let key = URL(fileURLWithPath: target).standardizedFileURL.path
                if let other = owner[key] {
                    throw InputError("\(other) and \(path) would both be written to \(target); rename one (outputs mirror the inputs' paths under --out-dir, extensions dropped)")
                }
                if standardInputs.contains(key) { throw InputError("\(target): the output of \(path) would replace an input") }
                owner[key] = path
                try Outputs.checkReplaceable(target)
            }
        }
        if let outDir {
            try Outputs.prepareDirectory(outDir)
            for target in cores { try Outputs.prepareDirectory(URL(fileURLWithPath: target).deletingLastPathComponent().path) }
        }
        // Temporary files of dead runs (SIGKILL, power loss) are reported and removed on every run, not only with
        // --resume; those of runs still in progress are left alone.
        for (i, target) in cores.enumerated() {
            Self.removeStaleTemporaries(of: target)
            if residual { Self.removeStaleTemporaries(of: residuals[i]) }
        }
        Interruption.install()
        // Testing hook: a pause after each block, so tests can interrupt a run of small files mid-file.
        let pause = ProcessInfo.processInfo.environment["VST_TEST_PAUSE_MS"].flatMap(UInt32.init) ?? 0
        var done: [JSON] = []
        var skipped = 0
        let progress = Progress(label: "project", quiet: output.quiet || inputs.count < 2)
        var current = ""
        do {
            for (i, path) in inputs.enumerated() {
                try Interruption.check()
                current = path
                let target = cores[i], residualTarget = residuals[i]
                let d = try RowBlocks.dimension(path, key: key)
                guard d == p.dimension else { throw InputError("\(path): has D = \(d) but the projection has D = \(p.dimension)") }
                let n = path.lowercased().hasSuffix(".npy") ? try NPYReader(path).rowCount : try Inputs.matrix(path, key: key, minRows: 1).shape[0]
                let type = dtype?.dtype ?? Self.inputDType(path, key: key)
                var entry: [(String, JSON)] = [("input", .string(path)), ("n", .int(n)), ("core", .string(target)), ("dtype", .string(type.rawValue))]
                if residual { entry.append(("residual", .string(residualTarget))) }
                if resume {
                    let coreDone = try Self.isComplete(target, shape: [n, p.k], dtype: type)
                    let residualDone = try !residual || Self.isComplete(residualTarget, shape: [n, p.dimension - p.k], dtype: type)
                    if coreDone && residualDone {
                        skipped += 1
                        done.append(.object(entry + [("skipped", .bool(true))]))
                        progress.update(i + 1, inputs.count)
                        continue
                    }
                }
                // With --resume one of the pair may be complete already: write only what is missing.
                let writeCore = !resume || !FileManager.default.fileExists(atPath: target)
                let writeResidual = residual && (!resume || !FileManager.default.fileExists(atPath: residualTarget))
                // The writers remove their temporary files if they are dropped unfinished (an error or a signal).
                let zw = writeCore ? try NPYWriter(target, shape: [n, p.k], dtype: type, overwrite: output.force) : nil
                let rw = writeResidual ? try NPYWriter(residualTarget, shape: [n, p.dimension - p.k], dtype: type, overwrite: output.force) : nil
                try RowBlocks.forEach(path, key: key) { x in
                    if let zw { try zw.append(p.project(x)) }
                    if let rw { try rw.append(p.residual(x)) }
                    if pause > 0 { usleep(pause * 1000) }
                    try Interruption.check()
                }
                // With --resume a concurrent run may have completed the same output meanwhile (the link finds it in
                // place): a complete file of the right shape and dtype counts as done.
                func place(_ w: NPYWriter?, shape: [Int]) throws {
                    guard let w else { return }
                    do { try w.finish() } catch let e as TensorError {
                        guard resume, case let .file(_, message) = e, message.hasPrefix("already exists"),
                              (try? Self.isComplete(w.path, shape: shape, dtype: type)) == true else { throw e }
                    }
                }
                try place(zw, shape: [n, p.k])
                try place(rw, shape: [n, p.dimension - p.k])
                done.append(.object(entry))
                progress.update(i + 1, inputs.count)
            }
        } catch let e as Interrupted {
            let complete = done.count
            FileHandle.standardError.write(Data(("\nvst: interrupted by \(Interruption.name) while projecting \(current): its partial output was removed; "
                + "\(complete) of \(inputs.count) files are complete. Rerun with --resume to continue.\n").utf8))
            throw ExitCode(128 + e.signal)
        }
        let written = inputs.count - skipped
        Outputs.emit(.object([("k", .int(p.k)), ("d", .int(p.dimension)), ("skipped", .int(skipped)), ("files", .array(done))]),
                     table: "projected \(written) file\(written == 1 ? "" : "s") into the \(p.k)-D core" + (skipped > 0 ? " (\(skipped) already complete, skipped)" : ""),
                     json: output.json)
    }
}

struct Lift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Map core coordinates back to the full space: exactly with --residual, else the best rank-k reconstruction.",
        discussion: "Example: vst lift --projection p.safetensors a.core.npy --residual a.residual.npy --out a.lifted.npy")

    @Option(help: "Projection file from fit-projection.") var projection: String
    @Argument(help: "Core coordinates (n×k .npy).") var input: String
    @Option(help: "Residual coordinates (n×(D−k) .npy) for an exact inverse.") var residual: String?
    @Option(help: "Output .npy file (n×D).") var out: String
    @Option(help: "Element type of the output: float32 | float64 (default: the core coordinates', float32 for float16/bfloat16/float32 input, else float64).")
    var dtype: OutputDType?
    @OptionGroup var output: WriteOptions
    /// Removed (it wrote nothing): kept hidden so that passing it gets a clear refusal.
    @Option(help: .hidden) var report: String?

    func validate() throws {
        if report != nil { throw ValidationError("--report: lift writes its output and no report (the option was removed)") }
    }

    func run() throws {
        let p = try Projection.load(projection)
        try Outputs.checkReplaceable(out)
        Outputs.removeStaleTemporaries(besides: out)
        let zr = try NPYReader(input)
        guard zr.shape.count == 2, zr.shape[1] == p.k else { throw InputError("\(input): expected n×\(p.k) core coordinates, got shape \(zr.shape)") }
        let rr = try residual.map { try NPYReader($0) }
        if let rr {
            guard rr.shape == [zr.rowCount, p.dimension - p.k] else {
                throw InputError("\(residual!): expected \(zr.rowCount)×\(p.dimension - p.k) residual coordinates, got shape \(rr.shape)")
            }
        }
        let type = dtype?.dtype ?? (zr.storesSinglePrecision ? .float32 : .float64)
        let w = try NPYWriter(out, shape: [zr.rowCount, p.dimension], dtype: type, overwrite: output.force)
        /// Names the file and the row of the first non-finite value of a block.
        func checkFinite(_ t: Tensor<Double>, _ path: String, start: Int) throws {
            do { try t.checkFinite("rows") } catch let TensorError.nonFinite(count, first, _) {
                throw InputError("\(path): \(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf) in rows \(start)..<\(start + t.shape[0]), first at row \(start + first[0]), column \(first.count > 1 ? first[1] : 0)")
            }
        }
        var start = 0
        while start < zr.rowCount {
            let end = Swift.min(zr.rowCount, start + 8192)
            let z: Tensor<Double> = try zr.rows(start..<end)
            let r: Tensor<Double>? = try rr?.rows(start..<end)
            try checkFinite(z, input, start: start)
            if let r { try checkFinite(r, residual!, start: start) }
            let x = try p.lift(z, residual: r)
            do { try x.checkFinite("lifted rows") } catch let TensorError.nonFinite(count, first, _) {
                throw InputError("\(out): lifting rows \(start)..<\(end) of \(input) with \(projection) overflows: \(count) non-finite values, first at row \(start + first[0])")
            }
            try w.append(x)
            start = end
        }
        try w.finish()
        Outputs.emit(.object([("n", .int(zr.rowCount)), ("d", .int(p.dimension)), ("exact", .bool(residual != nil)), ("out", .string(out)),
                              ("dtype", .string(type.rawValue))]),
                     table: "lifted \(zr.rowCount) rows to D = \(p.dimension) (\(residual != nil ? "exact inverse" : "rank-\(p.k) reconstruction")) → \(out)",
                     json: output.json)
    }
}
