import Foundation
import Linear
import Substrate

/// What `vst project` asks for: a projection, its inputs and where each input's core (and residual) goes.
public struct ProjectRequest {
    /// The projection file (from `fit-projection`).
    public var projection: String
    /// Input files (n×D).
    public var inputs: [String]
    /// One output for one input, or
    public var out: String? = nil
    /// an output directory mirroring the inputs' paths.
    public var outDir: String? = nil
    /// Also write the residual coordinates (n×(D−k)).
    public var residual = false
    /// Tensor name inside .safetensors inputs.
    public var key: String? = nil
    /// Skip outputs that are already complete.
    public var resume = false
    /// Element type of the outputs (nil: the input's).
    public var dtype: DType? = nil
    /// Overwrite existing outputs (regular files only).
    public var force = false
    /// Hide progress on stderr.
    public var quiet = false
    /// A pause after each block (tests interrupt a run of small files mid-file with it).
    public var pauseMilliseconds: UInt32 = 0

    public init(projection: String, inputs: [String]) {
        self.projection = projection
        self.inputs = inputs
    }
}

extension ProjectionJobs {
    /// The output paths (without the `.core.npy` suffix) of `inputs` under `dir`: each input's path relative to the
    /// common parent directory of all inputs (absolute, with `.` and `..` resolved), its extension dropped.
    public static func mirroredStems(_ inputs: [String], under dir: String) -> [String] {
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
    public static func inputDType(_ path: String, key: String?) -> DType {
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
    public static func isComplete(_ path: String, shape: [Int], dtype: DType = .float64) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        try Outputs.checkReplaceable(path)
        guard let r = try? NPYReader(path), r.shape == shape, dtype == .float64 ? r.storesDouble : r.storesSinglePrecision else {
            throw InputFileError(path: path, reason: "exists but is not a complete \(shape) \(dtype.rawValue) .npy output; remove it or rerun with --force")
        }
        return true
    }

    /// Projects every input of `r` into the core (and the residual), a block of rows at a time, each output written
    /// to a temporary file and moved into place when complete. Every target is checked before anything is written.
    /// A signal (after `Interruption.install()`, done here) abandons the file in progress and throws `Interrupted`
    /// whose message says how many files are complete.
    public static func project(_ r: ProjectRequest) throws -> JobOutput {
        let p = try Projection.load(r.projection)
        // Every target first: mirrored paths, no two alike, none an input, none a non-regular file.
        let stems: [String]
        if let out = r.out {
            stems = [out.hasSuffix(".core.npy") ? String(out.dropLast(9)) : (out as NSString).deletingPathExtension]
        } else {
            guard let outDir = r.outDir else { throw ConfigurationError(field: "--out", reason: "give --out (one input) or --out-dir") }
            stems = mirroredStems(r.inputs, under: outDir)
        }
        let cores = r.out.map { [$0] } ?? stems.map { $0 + ".core.npy" }
        let residuals = stems.map { $0 + ".residual.npy" }
        var owner: [String: String] = [:]
        let standardInputs = Set(r.inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        for (i, path) in r.inputs.enumerated() {
            for target in [cores[i]] + (r.residual ? [residuals[i]] : []) {
                let key = URL(fileURLWithPath: target).standardizedFileURL.path
                if let other = owner[key] {
                    throw InputError("\(other) and \(path) would both be written to \(target); rename one (outputs mirror the inputs' paths under --out-dir, extensions dropped)")
                }
                if standardInputs.contains(key) { throw InputFileError(path: target, reason: "the output of \(path) would replace an input") }
                owner[key] = path
                try Outputs.checkReplaceable(target)
            }
        }
        if let outDir = r.outDir {
            try Outputs.prepareDirectory(outDir)
            for target in cores { try Outputs.prepareDirectory(URL(fileURLWithPath: target).deletingLastPathComponent().path) }
        }
        // Temporary files of dead runs (SIGKILL, power loss) are reported and removed on every run, not only with
        // --resume; those of runs still in progress are left alone.
        for (i, target) in cores.enumerated() {
            Outputs.removeStaleTemporaries(besides: target)
            if r.residual { Outputs.removeStaleTemporaries(besides: residuals[i]) }
        }
        Interruption.install()
        var done: [JSON] = []
        var skipped = 0
        let progress = Progress(label: "project", quiet: r.quiet || r.inputs.count < 2)
        var current = ""
        do {
            for (i, path) in r.inputs.enumerated() {
                try Interruption.check()
                current = path
                let target = cores[i], residualTarget = residuals[i]
                let d = try RowBlocks.dimension(path, key: r.key)
                guard d == p.dimension else { throw InputFileError(path: path, reason: "has D = \(d) but the projection has D = \(p.dimension)") }
                let n = try RowBlocks.rowCount(path, key: r.key)
                let type = r.dtype ?? inputDType(path, key: r.key)
                var entry: [(String, JSON)] = [("input", .string(path)), ("n", .int(n)), ("core", .string(target)), ("dtype", .string(type.rawValue))]
                if r.residual { entry.append(("residual", .string(residualTarget))) }
                if r.resume {
                    let coreDone = try isComplete(target, shape: [n, p.k], dtype: type)
                    let residualDone = try !r.residual || isComplete(residualTarget, shape: [n, p.dimension - p.k], dtype: type)
                    if coreDone && residualDone {
                        skipped += 1
                        done.append(.object(entry + [("skipped", .bool(true))]))
                        progress.update(i + 1, r.inputs.count)
                        continue
                    }
                }
                // With --resume one of the pair may be complete already: write only what is missing.
                let writeCore = !r.resume || !FileManager.default.fileExists(atPath: target)
                let writeResidual = r.residual && (!r.resume || !FileManager.default.fileExists(atPath: residualTarget))
                // The writers remove their temporary files if they are dropped unfinished (an error or a signal).
                let zw = writeCore ? try NPYWriter(target, shape: [n, p.k], dtype: type, overwrite: r.force) : nil
                let rw = writeResidual ? try NPYWriter(residualTarget, shape: [n, p.dimension - p.k], dtype: type, overwrite: r.force) : nil
                try RowBlocks.forEach(path, key: r.key) { x in
                    if let zw { try zw.append(p.project(x)) }
                    if let rw { try rw.append(p.residual(x)) }
                    if r.pauseMilliseconds > 0 { usleep(r.pauseMilliseconds * 1000) }
                    try Interruption.check()
                }
                // With --resume a concurrent run may have completed the same output meanwhile (the link finds it in
                // place): a complete file of the right shape and dtype counts as done.
                func place(_ w: NPYWriter?, shape: [Int]) throws {
                    guard let w else { return }
                    do { try w.finish() } catch let e as TensorError {
                        guard r.resume, case let .file(_, message) = e, message.hasPrefix("already exists"),
                              (try? isComplete(w.path, shape: shape, dtype: type)) == true else { throw e }
                    }
                }
                try place(zw, shape: [n, p.k])
                try place(rw, shape: [n, p.dimension - p.k])
                done.append(.object(entry))
                progress.update(i + 1, r.inputs.count)
            }
        } catch let e as Interrupted {
            throw Interrupted(signal: e.signal, message: "\nvst: interrupted by \(Interruption.name) while projecting \(current): its partial output was removed; "
                + "\(done.count) of \(r.inputs.count) files are complete. Rerun with --resume to continue.\n")
        }
        let written = r.inputs.count - skipped
        return JobOutput(json: .object([("k", .int(p.k)), ("d", .int(p.dimension)), ("skipped", .int(skipped)), ("files", .array(done))]),
                         table: "projected \(written) file\(written == 1 ? "" : "s") into the \(p.k)-D core" + (skipped > 0 ? " (\(skipped) already complete, skipped)" : ""))
    }

    /// Maps the core coordinates `input` (n×k .npy) back to the full space with the projection file `projection`:
    /// exactly with the residual coordinates, else the best rank-k reconstruction; writes `out` (n×D .npy).
    public static func lift(projection: String, input: String, residual: String?, out: String, dtype: DType?, force: Bool) throws -> JobOutput {
        let p = try Projection.load(projection)
        try Outputs.checkReplaceable(out)
        Outputs.removeStaleTemporaries(besides: out)
        let zr = try NPYReader(input)
        guard zr.shape.count == 2, zr.shape[1] == p.k else { throw InputFileError(path: input, reason: "expected n×\(p.k) core coordinates, got shape \(zr.shape)") }
        let rr = try residual.map { try NPYReader($0) }
        if let rr, let residual {
            guard rr.shape == [zr.rowCount, p.dimension - p.k] else {
                throw InputFileError(path: residual, reason: "expected \(zr.rowCount)×\(p.dimension - p.k) residual coordinates, got shape \(rr.shape)")
            }
        }
        let type = dtype ?? (zr.storesSinglePrecision ? .float32 : .float64)
        let w = try NPYWriter(out, shape: [zr.rowCount, p.dimension], dtype: type, overwrite: force)
        var start = 0
        while start < zr.rowCount {
            let end = Swift.min(zr.rowCount, start + 8192)
            let z: Tensor<Double> = try zr.rows(start..<end)
            let r: Tensor<Double>? = try rr?.rows(start..<end)
            try StateChecks.requireFinite(z, label: input, rowOffset: start, rows: start..<end)
            if let r, let residual { try StateChecks.requireFinite(r, label: residual, rowOffset: start, rows: start..<end) }
            let x = try p.lift(z, residual: r)
            do { try x.checkFinite("lifted rows") } catch let TensorError.nonFinite(count, first, _) {
                throw InputFileError(path: out, reason: "lifting rows \(start)..<\(end) of \(input) with \(projection) overflows: \(count) non-finite values, first at row \(start + first[0])")
            }
            try w.append(x)
            start = end
        }
        try w.finish()
        return JobOutput(json: .object([("n", .int(zr.rowCount)), ("d", .int(p.dimension)), ("exact", .bool(residual != nil)), ("out", .string(out)),
                                        ("dtype", .string(type.rawValue))]),
                         table: "lifted \(zr.rowCount) rows to D = \(p.dimension) (\(residual != nil ? "exact inverse" : "rank-\(p.k) reconstruction")) → \(out)")
    }
}
