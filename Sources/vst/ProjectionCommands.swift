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
        if statsOnly || method == .covariance && !standardize {
            let d = try RowBlocks.dimension(inputs[0], key: key)
            var stats = CovarianceStatistics(dimension: d)
            let single = RowBlocks.allSinglePrecision(inputs)
            for path in inputs {
                let dd = try RowBlocks.dimension(path, key: key)
                guard dd == d else { throw InputError("\(path): has D = \(dd) but \(inputs[0]) has D = \(d)") }
                if single {
                    try RowBlocks.forEach(path, key: key, as: Float.self) { try stats.add($0, chunk: RowBlocks.blockRows(d)) }
                } else {
                    try RowBlocks.forEach(path, key: key) { try stats.add($0, chunk: RowBlocks.blockRows(d)) }
                }
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
        try p.save(out, overwrite: output.force)
        let json = p.report(roundTripError: roundTrip)
        if let dir = output.report {
            var page = HTMLReport(title: "Projection into a \(p.k)-D core", subtitle: "\(inputs.joined(separator: ", ")): n = \(p.n), D = \(p.dimension), method \(p.method.rawValue)")
            let ev = p.explainedVarianceRatio.prefix(64).enumerated().map { (Double($0.offset + 1), $0.element) }
            var cum = 0.0
            let cumulative = p.explainedVarianceRatio.prefix(64).enumerated().map { (i, r) -> (Double, Double) in cum += r; return (Double(i + 1), cum) }
            page.add("Explained variance", "The share of variance along each direction (and cumulatively). The core keeps the first \(p.k); the dashed line marks E_9.",
                     svg: SVGPlot.line(title: "Explained variance ratio", xLabel: "component", yLabel: "ratio",
                                       series: [SVGPlot.Series("per component", ev), SVGPlot.Series("cumulative", cumulative)],
                                       hLines: [(p.coreEnergy[9] ?? 0, "E₉")]), file: "explained_variance")
            try page.write(to: dir, json: json, overwrite: output.force)
        }
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
        var merged = try CovarianceStatistics.load(inputs[0])
        for path in inputs.dropFirst() {
            let s = try CovarianceStatistics.load(path)
            guard s.dimension == merged.dimension else { throw InputError("\(path): has D = \(s.dimension) but \(inputs[0]) has D = \(merged.dimension)") }
            try merged.merge(s)
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
        var p = try Projection.fit(statistics: merged, options: o)
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
        Writes <name>.core.npy (n×k) for each input (and <name>.residual.npy with --residual) into --out-dir, or to --out \
        for a single input. .npy inputs stream in blocks, so files bigger than memory work. Every output is written to a \
        temporary file and moved into place when complete, so an interrupted run never leaves a partial output. \
        SIGINT/SIGTERM abandon the file in progress (its temporary file is removed) and exit 130/143; rerun with \
        --resume to skip the outputs that are already complete (a float64 .npy of the expected shape).
        Example: vst project --projection p.safetensors a.npy b.npy --out-dir cores/ --resume
        """)

    @Option(help: "Projection file from fit-projection.") var projection: String
    @Argument(help: "Input files (n×D).") var inputs: [String]
    @Option(help: "Output file (single input only).") var out: String?
    @Option(help: "Output directory (one <name>.core.npy per input).") var outDir: String?
    @Flag(help: "Also write the residual coordinates (n×(D−k)), so `lift` can invert exactly.") var residual = false
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Flag(help: "Skip inputs whose outputs already exist and are complete (continue an interrupted run).") var resume = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input file") }
        if out == nil && outDir == nil { throw ValidationError("give --out (one input) or --out-dir") }
        if out != nil && inputs.count > 1 { throw ValidationError("--out takes one input; use --out-dir for \(inputs.count) files") }
        if resume && output.force { throw ValidationError("--resume keeps complete outputs and --force overwrites them; give one") }
    }

    /// True when `path` is a complete output: a float64, C-order .npy whose header has exactly `shape` and whose
    /// size matches it (outputs are moved into place only when finished, so this is the only state a file of ours
    /// can be in; anything else at that path is not ours and is refused).
    static func isComplete(_ path: String, shape: [Int]) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        guard let r = try? NPYReader(path), r.shape == shape, r.storesDouble else {
            throw InputError("\(path): exists but is not a complete \(shape) float64 .npy output; remove it or rerun with --force")
        }
        return true
    }

    /// Removes temporary files a killed run (SIGKILL, power loss) left beside `target`.
    static func removeStaleTemporaries(of target: String) {
        let url = URL(fileURLWithPath: target)
        let dir = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent(name))
        }
    }

    func run() throws {
        let p = try Projection.load(projection)
        if let outDir { try Outputs.prepareDirectory(outDir) }
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
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let target = out ?? (outDir! as NSString).appendingPathComponent(stem + ".core.npy")
                let residualTarget = target.hasSuffix(".core.npy") ? String(target.dropLast(9)) + ".residual.npy"
                                                                    : (target as NSString).deletingPathExtension + ".residual.npy"
                let d = try RowBlocks.dimension(path, key: key)
                guard d == p.dimension else { throw InputError("\(path): has D = \(d) but the projection has D = \(p.dimension)") }
                let n = path.lowercased().hasSuffix(".npy") ? try NPYReader(path).rowCount : try Inputs.matrix(path, key: key, minRows: 1).shape[0]
                var entry: [(String, JSON)] = [("input", .string(path)), ("n", .int(n)), ("core", .string(target))]
                if residual { entry.append(("residual", .string(residualTarget))) }
                if resume {
                    Self.removeStaleTemporaries(of: target)
                    if residual { Self.removeStaleTemporaries(of: residualTarget) }
                    let coreDone = try Self.isComplete(target, shape: [n, p.k])
                    let residualDone = try !residual || Self.isComplete(residualTarget, shape: [n, p.dimension - p.k])
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
                let zw = writeCore ? try NPYWriter(target, shape: [n, p.k], overwrite: output.force) : nil
                let rw = writeResidual ? try NPYWriter(residualTarget, shape: [n, p.dimension - p.k], overwrite: output.force) : nil
                try RowBlocks.forEach(path, key: key) { x in
                    if let zw { try zw.append(p.project(x)) }
                    if let rw { try rw.append(p.residual(x)) }
                    if pause > 0 { usleep(pause * 1000) }
                    try Interruption.check()
                }
                try zw?.finish()
                try rw?.finish()
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
                     options: output)
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
    @OptionGroup var output: OutputOptions

    func run() throws {
        let p = try Projection.load(projection)
        let zr = try NPYReader(input)
        guard zr.shape.count == 2, zr.shape[1] == p.k else { throw InputError("\(input): expected n×\(p.k) core coordinates, got shape \(zr.shape)") }
        let rr = try residual.map { try NPYReader($0) }
        if let rr {
            guard rr.shape == [zr.rowCount, p.dimension - p.k] else {
                throw InputError("\(residual!): expected \(zr.rowCount)×\(p.dimension - p.k) residual coordinates, got shape \(rr.shape)")
            }
        }
        let w = try NPYWriter(out, shape: [zr.rowCount, p.dimension], overwrite: output.force)
        var start = 0
        while start < zr.rowCount {
            let end = Swift.min(zr.rowCount, start + 8192)
            let z: Tensor<Double> = try zr.rows(start..<end)
            let r: Tensor<Double>? = try rr?.rows(start..<end)
            try w.append(p.lift(z, residual: r))
            start = end
        }
        try w.finish()
        Outputs.emit(.object([("n", .int(zr.rowCount)), ("d", .int(p.dimension)), ("exact", .bool(residual != nil)), ("out", .string(out))]),
                     table: "lifted \(zr.rowCount) rows to D = \(p.dimension) (\(residual != nil ? "exact inverse" : "rank-\(p.k) reconstruction")) → \(out)",
                     options: output)
    }
}
