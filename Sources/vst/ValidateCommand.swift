import ArgumentParser
import Foundation
import Linear
import Substrate

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Run the validation layers V1–V4 and exit 0 (pass, or warn unless --strict) or 1 (fail).",
        discussion: """
        V1 structural and V2 statistical checks run on the states; --reference adds the drift test (V4 no_drift); \
        --trajectory adds V3; --aligned-with adds the alignment class (V4, at least --require).
        Example: vst validate latents.npy --reference last_release.npy --strict
        """)

    @Argument(help: "States (n×D).") var input: String
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @Option(help: "Reference states for the drift test.") var reference: String?
    @Option(help: "A T×n×D trajectory for the temporal checks (V3).") var trajectory: String?
    @Option(help: "States of another model on the same inputs, for the alignment check (V4).") var alignedWith: String?
    @Option(help: "Required alignment class: A1, A2 or A3.") var require: String = "A2"
    @Flag(help: "Treat warnings as failures (exit 1).") var strict = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard ["A1", "A2", "A3"].contains(require) else { throw ValidationError("--require must be A1, A2 or A3, got \(require)") }
    }

    func run() throws {
        // V1 reports non-finite input as a failed check rather than refusing the file.
        let raw = try Inputs.array(input, key: key)
        guard raw.rank == 2 else { throw InputError("\(input): expected an n×D matrix of states, got shape \(raw.shape)") }
        var checks = Validation.structural(raw)
        if raw.allFinite && raw.shape[0] >= 2 {
            let regime = try Regimes.classify(raw, seed: output.seed, twoNN: false)
            var drift: DriftReport? = nil
            if let reference {
                let ref = try Inputs.matrix(reference, key: key)
                guard ref.shape[1] == raw.shape[1] else { throw InputError("\(reference): has D = \(ref.shape[1]) but \(input) has D = \(raw.shape[1])") }
                var o = DriftOptions(); o.seed = output.seed
                drift = try Drift.compare(ref, raw, options: o)
            }
            checks += Validation.statistical(regime)
            var alignmentRegime: String? = nil
            if let alignedWith {
                let y = try Inputs.matrix(alignedWith, key: key)
                guard y.shape[0] == raw.shape[0] else { throw InputError("\(alignedWith): has \(y.shape[0]) rows but \(input) has \(raw.shape[0]); alignment needs paired rows") }
                alignmentRegime = try alignmentClass(raw, y, seed: output.seed)
            }
            if alignmentRegime != nil || drift != nil {
                checks += Validation.crossModel(alignmentRegime: alignmentRegime, required: require, drift: drift)
            }
        }
        if let trajectory {
            let traj = try Inputs.array(trajectory)
            guard traj.rank == 3 else { throw InputError("\(trajectory): expected a T×n×D trajectory, got shape \(traj.shape)") }
            if traj.allFinite {
                var o = TrajectoryOptions(); o.seed = output.seed
                checks += Validation.temporal(try TrajectoryAnalysis.analyze(traj, options: o))
            } else {
                checks.append(ValidationCheck(layer: "V3", name: "finite_steps", status: .fail, value: .bool(false), message: "\(trajectory) holds non-finite values"))
            }
        }
        let report = ValidationReport(checks: checks)
        if let dir = output.report {
            var page = HTMLReport(title: "Validation: \(report.status.rawValue)", subtitle: input)
            page.add("Checks", "Each check with its measured value and threshold; the report's status is its worst check. The drift test against the reference is one check, V4 no_drift.",
                     table: AnalysisReports.validationTable(checks))
            try Outputs.writeReport(to: dir, force: output.force) { try page.write(to: $0, json: report.json, overwrite: true) }
        }
        let (header, rows) = AnalysisReports.validationTable(checks, threshold: false)   // values for people, as in the report
        Outputs.emit(report.json, table: Fmt.table(header, rows) + "\nstatus: \(report.status.rawValue)", options: output)
        if report.status == .fail || (strict && report.status == .warn) { throw ExitCode(1) }
    }
}
