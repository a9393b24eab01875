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
    @Flag(help: "Skip the TwoNN intrinsic dimension (O(n²D)).") var noTwonn = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let x = try Inputs.matrix(input, key: key)
        var t = RegimeThresholds()
        t.splits = splits
        let r = try Regimes.classify(x, thresholds: t, seed: output.seed, twoNN: !noTwonn)
        if let dir = output.report {
            try AnalysisReports.regimes(r, states: x, source: input).write(to: dir, json: r.json, overwrite: output.force)
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
            ["TwoNN dimension", Fmt.f(s.twoNNDimension)],
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
    @OptionGroup var output: OutputOptions

    func validate() throws { if stride < 1 { throw ValidationError("--stride must be at least 1, got \(stride)") } }

    func run() throws {
        let traj = try Inputs.array(input)
        guard traj.rank == 3 else { throw InputError("\(input): expected a T×n×D trajectory, got shape \(traj.shape)") }
        let tCount = traj.shape[0]
        var steps = Array(Swift.stride(from: 0, to: tCount, by: stride))
        if steps.last != tCount - 1 { steps.append(tCount - 1) }
        let picked = steps.count == tCount ? traj : try traj.gather(rows: steps)
        do { try picked.checkFinite("trajectory") } catch let TensorError.nonFinite(count, first, _) {
            throw InputError("\(input): \(count) non-finite values, first at step \(steps[first[0]]), sample \(first[1]), feature \(first[2])")
        }
        var o = TrajectoryOptions()
        o.seed = output.seed; o.twoNN = twonn; o.thresholds.splits = splits
        let progress = Progress(label: "trajectory steps", quiet: output.quiet)
        var r = try TrajectoryAnalysis.analyze(picked, options: o) { progress.update($0, $1) }
        // Report original step numbers.
        for i in r.steps.indices { r.steps[i].t = steps[i] }
        r.phases = r.phases.map { Phase(regime: $0.regime, start: steps[$0.start], end: steps[$0.end]) }
        r.transitions = r.transitions.map { Transition(t: steps[$0.t], from: $0.from, to: $0.to) }
        if let dir = output.report {
            try AnalysisReports.trajectory(r, source: input).write(to: dir, json: r.json, overwrite: output.force)
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
        if let dir = output.report { try AnalysisReports.scaling(r).write(to: dir, json: r.json, overwrite: output.force) }
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
    @Option(help: "Permutations of the MMD² test.") var permutations: Int = 200
    @Option(help: "Significance level α.") var alpha: Double = 0.05
    @Flag(help: "Row i of both files comes from the same input (two checkpoints on one batch): also report the alignment numbers (vst-spec §8).")
    var paired = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if permutations < 1 { throw ValidationError("--permutations must be at least 1") }
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be in (0, 1), got \(alpha)") }
    }

    func run() throws {
        let a = try Inputs.matrix(reference, key: key), b = try Inputs.matrix(candidate, key: key)
        guard a.shape[1] == b.shape[1] else { throw InputError("\(candidate): has D = \(b.shape[1]) but \(reference) has D = \(a.shape[1])") }
        var o = DriftOptions()
        o.permutations = permutations; o.alpha = alpha; o.seed = output.seed
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
        if let dir = output.report {
            try AnalysisReports.drift(r, reference: reference, candidate: candidate).write(to: dir, json: json, overwrite: output.force)
        }
        Outputs.emit(json, table: Fmt.table(["measure", "value"], [
            ["drift", r.drift ? "yes" : "no"], ["MMD²", Fmt.f(r.mmd2)], ["p-value", Fmt.f(r.pValue)], ["bandwidth h", Fmt.f(r.bandwidth2.squareRoot())],
            ["Fréchet distance", Fmt.f(r.frechetDistance)], ["core Fréchet distance", Fmt.f(r.coreFrechetDistance)],
            ["core similarity", Fmt.f(r.coreSimilarity)], ["ΔE₉", Fmt.f(r.coreEnergyDelta)], ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
        ]) + alignmentLine + "\n" + (r.reasons + r.warnings).map { "· " + $0 }.joined(separator: "\n"), options: output)
    }
}
