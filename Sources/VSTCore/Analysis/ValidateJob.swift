import Foundation
import Linear
import Substrate

/// What `vst validate` asks for.
public struct ValidateRequest {
    /// States (n×D).
    public var input: String
    public var key: String? = nil
    /// Reference states for the drift test (V4 no_drift).
    public var reference: String? = nil
    /// A T×n×D trajectory for the temporal checks (V3).
    public var trajectory: String? = nil
    /// States of another model on the same inputs, for the alignment check (V4).
    public var alignedWith: String? = nil
    /// Required alignment class: A1, A2 or A3.
    public var require = "A2"
    public var seed: UInt64 = 0
    public var report: String? = nil
    public var force = false

    public init(input: String) { self.input = input }
}

extension AnalysisJobs {
    /// The validation layers V1–V4 (docs/method.md §9). Non-finite input is a failed V1 check rather than a
    /// refused file; the caller decides the exit status from `report.status`.
    public static func validate(_ r: ValidateRequest) throws -> (report: ValidationReport, output: JobOutput) {
        let raw = try Inputs.array(r.input, key: r.key)
        guard raw.rank == 2 else { throw InputFileError(path: r.input, reason: "expected an n×D matrix of states, got shape \(raw.shape)") }
        var checks = Validation.structural(raw)
        if raw.allFinite && raw.shape[0] >= 2 {
            let regime = try Regimes.classify(raw, seed: r.seed, twoNN: false)
            var drift: DriftReport? = nil
            if let reference = r.reference {
                let ref = try Inputs.matrix(reference, key: r.key)
                guard ref.shape[1] == raw.shape[1] else { throw InputFileError(path: reference, reason: "has D = \(ref.shape[1]) but \(r.input) has D = \(raw.shape[1])") }
                var o = DriftOptions(); o.seed = r.seed
                drift = try Drift.compare(ref, raw, options: o)
            }
            checks += Validation.statistical(regime)
            var alignmentRegime: String? = nil
            if let alignedWith = r.alignedWith {
                let y = try Inputs.matrix(alignedWith, key: r.key)
                guard y.shape[0] == raw.shape[0] else { throw InputFileError(path: alignedWith, reason: "has \(y.shape[0]) rows but \(r.input) has \(raw.shape[0]); alignment needs paired rows") }
                alignmentRegime = try Alignment.compare(raw, y, seed: r.seed).regime.rawValue
            }
            if alignmentRegime != nil || drift != nil {
                checks += Validation.crossModel(alignmentRegime: alignmentRegime, required: r.require, drift: drift)
            }
        }
        if let trajectory = r.trajectory {
            let traj = try Inputs.array(trajectory)
            guard traj.rank == 3 else { throw InputFileError(path: trajectory, reason: "expected a T×n×D trajectory, got shape \(traj.shape)") }
            if traj.allFinite {
                var o = TrajectoryOptions(); o.seed = r.seed
                checks += Validation.temporal(try TrajectoryAnalysis.analyze(traj, options: o))
            } else {
                checks.append(ValidationCheck(layer: "V3", name: "finite_steps", status: .fail, value: .bool(false), message: "\(trajectory) holds non-finite values"))
            }
        }
        let report = ValidationReport(checks: checks)
        if let dir = r.report {
            var page = HTMLReport(title: "Validation: \(report.status.rawValue)", subtitle: r.input)
            page.add("Checks", "Each check with its measured value and threshold; the report's status is its worst check. The drift test against the reference is one check, V4 no_drift.",
                     table: AnalysisReports.validationTable(checks))
            try Outputs.writeReport(to: dir, force: r.force) { try page.write(to: $0, json: report.json, overwrite: true) }
        }
        let (header, rows) = AnalysisReports.validationTable(checks, threshold: false)   // values for people, as in the report
        return (report, JobOutput(json: report.json, table: Fmt.table(header, rows) + "\nstatus: \(report.status.rawValue)"))
    }
}
