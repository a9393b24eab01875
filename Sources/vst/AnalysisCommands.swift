import ArgumentParser
import Foundation
import Linear
import Substrate

struct RegimesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regimes",
        abstract: "Spectrum statistics and the latent regime (R1 stable / R2 transitional / R3 dispersed) of a set of states.",
        discussion: "Example: vst regimes latents.npy --json")

    @Argument(help: "States (n×D .npy, .safetensors or .csv).") var input: String
    @Option(help: "Tensor name inside a .safetensors input.") var key: String?
    @Option(help: "Random half-splits for the stability estimate.") var splits: Int = 5
    @Flag(help: "Skip the TwoNN intrinsic dimension.") var noTwonn = false
    @Option(help: "Rows of the seeded subsample TwoNN runs on (O(rows²·D)); sets with fewer rows use them all.") var twonnRows: Int = 10_000
    @Flag(help: ArgumentHelp("TwoNN over every row (exact neighbours, O(n²D)); refused above \(TwoNN.exactRowLimit) rows.")) var twonnExact = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if twonnRows < 3 { throw ValidationError("--twonn-rows must be at least 3, got \(twonnRows)") }
    }

    /// .npy inputs holding more than this many values are read a block of rows at a time (without --report).
    static let streamingValues = 1 << 22

    func run() throws {
        if let dir = output.report { try StagedReport.check(dir, force: output.force) }
        var t = RegimeThresholds()
        t.splits = splits
        var o = TwoNNOptions()
        o.rows = twonnRows; o.exact = twonnExact; o.seed = output.seed
        let twoNNProgress = Progress(label: "TwoNN neighbour rows", quiet: output.quiet)
        let started = DispatchTime.now().uptimeNanoseconds
        o.progress = { done, total in
            // Only for searches that take a while: the first line after two seconds.
            if Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 > 2 || done == total && total > 20_000 { twoNNProgress.update(done, total) }
        }
        if output.report == nil, input.lowercased().hasSuffix(".npy"), let reader = try? NPYReader(input), reader.shape.count == 2,
           reader.rowCount * reader.rowElements > RegimesCommand.streamingValues {
            guard reader.rowCount >= 2 else { throw InputError("\(input): need at least 2 rows, got \(reader.rowCount)") }
            if twonnExact && !noTwonn && reader.rowCount > TwoNN.exactRowLimit {
                throw InputError("--twonn-exact: \(input) has \(reader.rowCount) rows, above the exact limit of \(TwoNN.exactRowLimit); use --twonn-rows")
            }
            let progress = Progress(label: "rows", quiet: output.quiet)
            let r = try Regimes.classify(rows: StateRows(npy: reader), thresholds: t, seed: output.seed, twoNN: !noTwonn,
                                         twoNNOptions: o) { progress.update($0, $1) }
            Outputs.emit(r.json, table: RegimesCommand.table(r), options: output)
            return
        }
        let x = try Inputs.matrix(input, key: key)
        if twonnExact && !noTwonn && x.shape[0] > TwoNN.exactRowLimit {
            throw InputError("--twonn-exact: \(input) has \(x.shape[0]) rows, above the exact limit of \(TwoNN.exactRowLimit); use --twonn-rows")
        }
        let r = try Regimes.classify(x, thresholds: t, seed: output.seed, twoNN: !noTwonn, twoNNOptions: o)
        if let dir = output.report {
            try Outputs.writeReport(to: dir, force: output.force) { try AnalysisReports.regimes(r, states: x, source: input).write(to: $0, json: r.json, overwrite: true) }
        }
        Outputs.emit(r.json, table: RegimesCommand.table(r), options: output)
    }

    static func table(_ r: RegimeReport) -> String {
        let s = r.spectrum
        return Fmt.table(["quantity", "value"], [
            ["n × D", "\(s.n) × \(s.d)"], ["regime", r.regime.rawValue],
            ["signal rank k*", "\(s.signalRank) (τ = \(Fmt.f(s.threshold)))"], ["signal energy ρ", Fmt.f(s.signalEnergy)],
            ["participation ratio", Fmt.f(s.participationRatio)],
            ["E₃ / E₆ / E₉", Ladder.cores.map { Fmt.f(s.coreEnergy[$0]) }.joined(separator: " / ")],
            ["signal stability P*", r.signalStability.map { "\(Fmt.f($0.mean)) (min \(Fmt.f($0.min)))" } ?? "—"],
            ["P(3) / P(6) / P(9)", Ladder.cores.map { Fmt.f(r.coreStability[$0]?.mean) }.joined(separator: " / ")],
            ["TwoNN dimension", Fmt.f(s.twoNNDimension) + (s.twoNNInterval.map { " [\(Fmt.f($0[0], 3)), \(Fmt.f($0[1], 3))]" } ?? "")
                + (s.twoNNRows.map { $0 < s.n ? " (\($0) of \(s.n) rows)" : "" } ?? "")],
        ]) + "\n" + r.reasons.map { "· " + $0 }.joined(separator: "\n") + (r.warnings.isEmpty ? "" : "\n" + r.warnings.map { "! " + $0 }.joined(separator: "\n"))
    }
}

struct TrajectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trajectory",
        abstract: "Per-step regimes, core rotation, velocity coherence, phases and transitions of a T×n×D trajectory.",
        discussion: "Example: vst trajectory sampler_states.npy --stride 10 --report traj-report/")

    @Argument(help: "Trajectory (T×n×D .npy).") var input: String
    @Option(help: "Analyse every s-th step (the last step is always included).") var stride: Int = 1
    @Option(help: "Random half-splits for the stability estimate at each step.") var splits: Int = 5
    @Flag(help: "Compute TwoNN at every step (slow).") var twonn = false
    @Option(help: "Interior phases shorter than this many sampler steps are absorbed into the next phase (the first and last are always kept).")
    var minPhaseLength: Int = 2
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if stride < 1 { throw ValidationError("--stride must be at least 1, got \(stride)") }
        if minPhaseLength < 1 { throw ValidationError("--min-phase-length must be at least 1, got \(minPhaseLength)") }
    }

    func run() throws {
        // A .npy trajectory is read one time slice at a time; other formats are loaded whole.
        let shape: [Int]
        let slice: (Int) throws -> Tensor<Double>
        if input.lowercased().hasSuffix(".npy") {
            let reader = try NPYReader(input)
            shape = reader.shape
            let single = reader.storesSinglePrecision
            slice = { t in
                let x: Tensor<Double> = single ? try reader.rows(t..<(t + 1), as: Float.self).cast() : try reader.rows(t..<(t + 1), as: Double.self)
                return try x.reshaped(Array(shape.dropFirst()))
            }
        } else {
            let traj = try Inputs.array(input)
            shape = traj.shape
            slice = { t in try traj.row(t) }
        }
        guard shape.count == 3 else { throw InputError("\(input): expected a T×n×D trajectory, got shape \(shape)") }
        let tCount = shape[0], n = shape[1], d = shape[2]
        guard tCount >= 1, n >= 2, d >= 1 else { throw InputError("\(input): need T ≥ 1 steps of n ≥ 2 states, got shape \(shape)") }
        var steps = Array(Swift.stride(from: 0, to: tCount, by: stride))
        if steps.last != tCount - 1 { steps.append(tCount - 1) }
        var o = TrajectoryOptions()
        o.seed = output.seed; o.twoNN = twonn; o.thresholds.splits = splits; o.minimumPhaseLength = minPhaseLength
        let progress = Progress(label: "trajectory steps", quiet: output.quiet)
        let r = try TrajectoryAnalysis.analyze(steps: steps, totalSteps: tCount, n: n, d: d, options: o, progress: { progress.update($0, $1) }) { t in
            let x = try slice(t)
            do { try x.checkFinite("trajectory") } catch let TensorError.nonFinite(count, first, _) {
                throw InputError("\(input): \(count) non-finite value\(count == 1 ? "" : "s") in step \(t), first at step \(t), sample \(first[0]), feature \(first[1])")
            }
            return x
        }
        if let dir = output.report {
            try Outputs.writeReport(to: dir, force: output.force) { try AnalysisReports.trajectory(r, source: input).write(to: $0, json: r.json, overwrite: true) }
        }
        Outputs.emit(r.json, table: TrajectoryCommand.table(r), options: output)
    }

    static func table(_ r: TrajectoryReport) -> String {
        let rows = r.steps.map { s in
            [String(s.t), s.report.regime.rawValue, String(s.report.spectrum.signalRank), Fmt.f(s.report.spectrum.signalEnergy, 3),
             Fmt.f(s.report.spectrum.coreEnergy[9], 3), Fmt.f(s.report.signalStability?.mean, 3), Fmt.f(s.coreRotation, 3),
             Fmt.f(s.stepNorm, 3), Fmt.f(s.velocityCoherence, 3)]
        }
        return Fmt.table(["t", "regime", "k*", "ρ", "E₉", "P*", "rotation", "step", "coherence"], rows)
            + "\nphases: " + r.phases.map { "\($0.regime.rawValue)[\($0.start)–\($0.end)]" }.joined(separator: " → ")
            + "\ntransitions: " + (r.transitions.isEmpty ? "none" : r.transitions.map { "t=\($0.t) \($0.from.rawValue)→\($0.to.rawValue)" }.joined(separator: ", "))
            + (r.shortRuns.isEmpty ? "" : "\nabsorbed (shorter than the minimum phase length): " + r.shortRuns.map { "\($0.regime.rawValue)[\($0.start)–\($0.end)]" }.joined(separator: ", "))
    }
}

struct ScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Scaling regimes (S1/S2/S3) and the log–log law of k* and PR across the ladder of widths d.",
        discussion: "Give one file per rung with --rung d=file, or a directory whose n×d files each form one rung. Example: vst scaling --rung 64=a.npy --rung 128=b.npy --rung 256=c.npy")

    @Option(help: ArgumentHelp("A rung as d=file (repeatable).", valueName: "d=file")) var rung: [String] = []
    @Argument(help: "A directory of .npy files, one per rung (d read from each file's width).") var directory: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        var inputs: [(d: Int, states: Tensor<Double>)] = []
        for spec in rung {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let d = Int(parts[0]), d > 0 else { throw InputError("--rung '\(spec)': expected d=file, e.g. 64=latents64.npy") }
            let x = try Inputs.matrix(parts[1])
            guard x.shape[1] == d else { throw InputError("\(parts[1]): has width \(x.shape[1]) but the rung says d = \(d)") }
            inputs.append((d, x))
        }
        if let directory {
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".npy") }.sorted()
            guard !files.isEmpty else { throw InputError("\(directory): contains no .npy files") }
            for f in files {
                let x = try Inputs.matrix(URL(fileURLWithPath: directory).appendingPathComponent(f).path)
                inputs.append((x.shape[1], x))
            }
        }
        guard inputs.count >= 2 else { throw InputError("scaling needs at least 2 rungs (got \(inputs.count)); use --rung d=file or a directory") }
        let ds = inputs.map { $0.d }
        if Set(ds).count != ds.count { throw InputError("two inputs have the same width d (\(ds.sorted())); give one file per rung") }
        let progress = Progress(label: "rungs", quiet: output.quiet)
        let r = try Scaling.analyze(inputs, seed: output.seed) { progress.update($0, $1) }
        if let dir = output.report { try Outputs.writeReport(to: dir, force: output.force) { try AnalysisReports.scaling(r).write(to: $0, json: r.json, overwrite: true) } }
        Outputs.emit(r.json, table: Fmt.table(["d", "n", "k*", "ρ", "PR", "E₉", "P*", "P(9)", "round trip", "fit s"], r.rungs.map { g in
            [String(g.d), String(g.n), String(g.report.spectrum.signalRank), Fmt.f(g.report.spectrum.signalEnergy, 3),
             Fmt.f(g.report.spectrum.participationRatio, 3), Fmt.f(g.report.spectrum.coreEnergy[9], 3), Fmt.f(g.report.signalStability?.mean, 3),
             Fmt.f(g.report.coreStability[9]?.mean, 3), Fmt.f(g.roundTripError, 2), Fmt.f(g.fitSeconds, 3)]
        }) + "\nregime: \(r.regime.rawValue)" + (r.changeRung.map { " (class changes at d = \($0))" } ?? "")
            + "\nlaw: k* ∝ d^\(Fmt.f(r.signalRankLaw?.slope, 3)) (R² \(Fmt.f(r.signalRankLaw?.r2, 3))), PR ∝ d^\(Fmt.f(r.participationLaw?.slope, 3)) (R² \(Fmt.f(r.participationLaw?.r2, 3)))"
            + "\n" + r.reasons.map { "· " + $0 }.joined(separator: "\n"), options: output)
    }
}

struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Drift between a reference and a candidate set: MMD² permutation test, Fréchet distances, KS, core drift.",
        discussion: "Example: vst drift checkpoint_a.npy checkpoint_b.npy --json")

    @Argument(help: "Reference states A (n×D).") var reference: String
    @Argument(help: "Candidate states B (m×D).") var candidate: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Option(help: "Permutations of the MMD² test (sets of at most 2500 rows).") var permutations: Int = 200
    @Option(help: "Rows per block of the block MMD test that larger sets get (all rows, normal p-value).") var blockSize: Int = 256
    @Option(help: "Significance level α.") var alpha: Double = 0.05
    @Flag(help: "Row i of both files comes from the same input (two checkpoints on one batch): also report the alignment numbers (vst-docs/method.md §8).")
    var paired = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if permutations < 1 { throw ValidationError("--permutations must be at least 1") }
        if blockSize < 2 { throw ValidationError("--block-size must be at least 2, got \(blockSize)") }
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be in (0, 1), got \(alpha)") }
    }

    func run() throws {
        var o = DriftOptions()
        o.permutations = permutations; o.alpha = alpha; o.seed = output.seed; o.blockSize = blockSize
        if !paired, reference.lowercased().hasSuffix(".npy"), candidate.lowercased().hasSuffix(".npy"),
           let ra = try? NPYReader(reference), let rb = try? NPYReader(candidate), ra.shape.count == 2, rb.shape.count == 2,
           Drift.usesBlockTest(ra.rowCount, rb.rowCount, options: o) {
            guard ra.rowElements == rb.rowElements else { throw InputError("\(candidate): has D = \(rb.rowElements) but \(reference) has D = \(ra.rowElements)") }
            let progress = Progress(label: "drift blocks", quiet: output.quiet)
            let r = try Drift.compare(reference: StateRows(npy: ra), candidate: StateRows(npy: rb), options: o) { progress.update($0, $1) }
            try emit(r, json: r.json, alignmentLine: "")
            return
        }
        let a = try Inputs.matrix(reference, key: key), b = try Inputs.matrix(candidate, key: key)
        guard a.shape[1] == b.shape[1] else { throw InputError("\(candidate): has D = \(b.shape[1]) but \(reference) has D = \(a.shape[1])") }
        let r = try Drift.compare(a, b, options: o)
        var json = r.json
        var alignmentLine = ""
        if paired {
            guard a.shape[0] == b.shape[0] else {
                throw InputError("--paired: \(candidate) has \(b.shape[0]) rows but \(reference) has \(a.shape[0]); paired sets need one row per input in both")
            }
            let al = try Alignment.compare(a, b, seed: output.seed)
            if case var .object(pairs) = json { pairs.append(("alignment", al.json)); json = .object(pairs) }
            alignmentLine = "\npaired alignment: \(al.regime.rawValue) (linear CKA \(Fmt.f(al.linearCKA)), core Procrustes \(Fmt.f(al.core.similarity)))"
        }
        try emit(r, json: json, alignmentLine: alignmentLine)
    }

    func emit(_ r: DriftReport, json: JSON, alignmentLine: String) throws {
        if let dir = output.report {
            try Outputs.writeReport(to: dir, force: output.force) { try AnalysisReports.drift(r, reference: reference, candidate: candidate).write(to: $0, json: json, overwrite: true) }
        }
        let test = r.test == "block" ? "block MMD over \(r.testRows.map(String.init).joined(separator: " + ")) rows (\(r.blocks ?? 0) block pairs)"
            : "permutation (\(r.permutations)) on \(r.testRows.map(String.init).joined(separator: " + ")) rows"
        Outputs.emit(json, table: Fmt.table(["measure", "value"], [
            ["drift", r.drift ? "yes" : "no"], ["MMD²", Fmt.f(r.mmd2)], ["p-value", Fmt.f(r.pValue)], ["test", test], ["bandwidth h", Fmt.f(r.bandwidth2.squareRoot())],
            ["Fréchet distance", Fmt.f(r.frechetDistance)], ["core Fréchet distance", Fmt.f(r.coreFrechetDistance)],
            ["core similarity", Fmt.f(r.coreSimilarity)], ["ΔE₉", Fmt.f(r.coreEnergyDelta)], ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
        ]) + alignmentLine + "\n" + (r.reasons + r.warnings).map { "· " + $0 }.joined(separator: "\n"), options: output)
    }
}
