import Foundation
import Linear

/// pass < warn < fail; a report's status is its worst check.
public enum CheckStatus: String, Sendable, Comparable {
    case pass, warn, fail
    var rank: Int { switch self { case .pass: 0; case .warn: 1; case .fail: 2 } }
    public static func < (a: CheckStatus, b: CheckStatus) -> Bool { a.rank < b.rank }
}

/// One check of a validation layer, with its measured value and threshold.
public struct ValidationCheck: Sendable {
    /// "V1" … "V4".
    public var layer: String
    public var name: String
    public var status: CheckStatus
    public var value: JSON
    public var threshold: JSON
    public var message: String

    public init(layer: String, name: String, status: CheckStatus, value: JSON, threshold: JSON = .null, message: String) {
        self.layer = layer; self.name = name; self.status = status; self.value = value; self.threshold = threshold; self.message = message
    }

    public var json: JSON {
        .object([("layer", .string(layer)), ("name", .string(name)), ("status", .string(status.rawValue)),
                 ("value", value), ("threshold", threshold), ("message", .string(message))])
    }
}

/// The checks of one validation run (docs/method.md §9).
public struct ValidationReport: Sendable, JSONReportable {
    public var checks: [ValidationCheck]
    /// The worst status of any check (pass when there are none).
    public var status: CheckStatus { checks.map(\.status).max() ?? .pass }
    public init(checks: [ValidationCheck]) { self.checks = checks }
    public var json: JSON { .object([("status", .string(status.rawValue)), ("checks", .array(checks.map { $0.json }))]) }

    /// Reads a report written by `json` (the `status` is recomputed from the checks). Files written before the drift
    /// test became one check hold it twice — V2 `drift` and V4 `no_drift`, one permutation test with the same p-value
    /// and α — and read as the V4 check alone; a V2 `drift` with another value is a different test and is kept.
    /// Throws `TensorError.file` naming `source` when there is no `checks` list or a check lacks its layer, name or a
    /// status pass/warn/fail.
    public init(json: JSON, source: String = "report.json") throws {
        guard case .array(let items)? = json["checks"] else {
            throw TensorError.file(path: source, message: "has no \"checks\" list (not a validation report)")
        }
        var read: [ValidationCheck] = []
        for (i, c) in items.enumerated() {
            guard case .string(let layer)? = c["layer"], case .string(let name)? = c["name"], case .string(let s)? = c["status"],
                  let status = CheckStatus(rawValue: s) else {
                throw TensorError.file(path: source, message: "check \(i + 1) lacks its layer, name or a status pass, warn or fail")
            }
            var message = ""
            if case .string(let m)? = c["message"] { message = m }
            read.append(ValidationCheck(layer: layer, name: name, status: status, value: c["value"] ?? .null, threshold: c["threshold"] ?? .null, message: message))
        }
        func base(_ name: String, dropping suffix: String) -> String { String(name.dropLast(suffix.count)) }   // "checkpoints: drift" → "checkpoints: "
        let v4 = read.filter { $0.layer == "V4" && $0.name.hasSuffix("no_drift") }
        checks = read.filter { c in
            !(c.layer == "V2" && c.name.hasSuffix("drift") && !c.name.hasSuffix("no_drift")
              && v4.contains { base($0.name, dropping: "no_drift") == base(c.name, dropping: "drift") && $0.value == c.value && $0.threshold == c.threshold })
        }
    }
}

/// Tolerances of the validation layers, with the defaults of docs/method.md.
public struct ValidationThresholds: Sendable {
    /// Round-trip relative error allowed for Double analysis (the Float bound of docs/method.md §2 is 1e-5).
    public var roundTripTolerance = 1e-12
    /// max|VᵀV − I| allowed.
    public var orthonormalityTolerance = 1e-10
    /// Warn when the covariance condition number exceeds this.
    public var conditionWarning = 1e8
    /// V3: no step norm above this multiple of the median step norm.
    public var stepNormFactor = 10.0
    /// V3: consecutive cores count as collapsed when every core rotation similarity exceeds this.
    public var collapsedSimilarity = 0.9999
    public init() {}
}

/// The validation layers V1–V4 (docs/method.md §9).
public enum Validation {
    /// V1 structural: finiteness (count and first index), shape, projection round trip and orthonormality,
    /// covariance condition number.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func structural<S: BLASScalar>(_ states: Tensor<S>, thresholds t: ValidationThresholds = ValidationThresholds(),
                                                 projectionRank k: Int = 9) -> [ValidationCheck] {
        var checks: [ValidationCheck] = []
        guard states.rank == 2, states.shape[0] >= 2, states.shape[1] >= 1 else {
            return [ValidationCheck(layer: "V1", name: "shape", status: .fail, value: .array(states.shape.map { .int($0) }),
                                    message: "expected an n×D matrix with n ≥ 2, got shape \(states.shape)")]
        }
        checks.append(ValidationCheck(layer: "V1", name: "shape", status: .pass, value: .array(states.shape.map { .int($0) }),
                                      message: "n = \(states.shape[0]) states of dimension D = \(states.shape[1])"))
        do {
            try states.checkFinite("states")
            checks.append(ValidationCheck(layer: "V1", name: "finite", status: .pass, value: .int(0), threshold: .int(0), message: "all values are finite"))
        } catch let TensorError.nonFinite(count, first, _) {
            checks.append(ValidationCheck(layer: "V1", name: "finite", status: .fail, value: .int(count), threshold: .int(0),
                                          message: "\(count) non-finite values (NaN or ±Inf), first at row \(first.first ?? 0), column \(first.last ?? 0)"))
            return checks
        } catch {
            checks.append(ValidationCheck(layer: "V1", name: "finite", status: .fail, value: .null, message: "\(error)"))
            return checks
        }
        let x: Tensor<Double> = states.cast()
        do {
            let p = try Projection.fit(x, options: ProjectionOptions(k: Swift.min(k, x.shape[1])))
            let rt = try p.roundTripError(x)
            checks.append(ValidationCheck(layer: "V1", name: "round_trip", status: rt <= t.roundTripTolerance ? .pass : .fail,
                                          value: .num(rt), threshold: .num(t.roundTripTolerance),
                                          message: "‖lift(project(x), residual(x)) − x‖_F / ‖x‖_F = \(String(format: "%.2e", rt))"))
            let oe = p.orthonormalityError
            checks.append(ValidationCheck(layer: "V1", name: "orthonormality", status: oe <= t.orthonormalityTolerance ? .pass : .fail,
                                          value: .num(oe), threshold: .num(t.orthonormalityTolerance),
                                          message: "max|VᵀV − I| = \(String(format: "%.2e", oe))"))
            let lmax = p.eigenvalues.first ?? 0, lmin = p.eigenvalues.last ?? 0
            let cond = lmin > 0 ? lmax / lmin : Double.infinity
            checks.append(ValidationCheck(layer: "V1", name: "condition_number", status: cond <= t.conditionWarning ? .pass : .warn,
                                          value: .num(cond.isFinite ? cond : nil), threshold: .num(t.conditionWarning),
                                          message: cond.isFinite ? "covariance condition number λ₁/λ_D = \(String(format: "%.3g", cond))"
                                                                 : "the covariance is singular (λ_D = 0\(x.shape[0] <= x.shape[1] ? "; n ≤ D" : ""))"))
        } catch {
            checks.append(ValidationCheck(layer: "V1", name: "projection", status: .fail, value: .null, message: "the projection fit failed: \(error)"))
        }
        return checks
    }

    /// V2 statistical: the regime and its numbers. The drift test against a reference set is V4's `no_drift`
    /// (`crossModel(alignmentRegime:drift:)`): one permutation test, one check.
    public static func statistical(_ report: RegimeReport) -> [ValidationCheck] {
        let s = report.spectrum
        let checks = [
            ValidationCheck(layer: "V2", name: "regime", status: report.regime == .r3 ? .warn : .pass, value: .string(report.regime.rawValue),
                            message: report.reasons.joined(separator: "; ")),
            ValidationCheck(layer: "V2", name: "signal_rank", status: report.warnings.isEmpty ? .pass : .warn, value: .int(s.signalRank),
                            threshold: .num(s.threshold), message: report.warnings.first ?? "k* = \(s.signalRank) singular values above τ = \(String(format: "%.4g", s.threshold))"),
            ValidationCheck(layer: "V2", name: "signal_energy", status: .pass, value: .num(s.signalEnergy), message: "ρ = \(String(format: "%.3f", s.signalEnergy))"),
            ValidationCheck(layer: "V2", name: "core_energy_9", status: .pass, value: .num(s.coreEnergy[9]), message: "E_9 = \(String(format: "%.3f", s.coreEnergy[9] ?? 0))"),
            ValidationCheck(layer: "V2", name: "participation_ratio", status: .pass, value: .num(s.participationRatio),
                            message: "PR = \(String(format: "%.2f", s.participationRatio))"),
        ]
        return checks
    }

    /// The V2 checks followed by the drift test as V4 `no_drift` (it used to be a second check, V2 `drift`).
    @available(*, deprecated, message: "the drift test is one check, V4 no_drift: pass the drift report to crossModel(alignmentRegime:drift:)")
    public static func statistical(_ report: RegimeReport, drift: DriftReport?) -> [ValidationCheck] {
        statistical(report) + (drift == nil ? [] : crossModel(alignmentRegime: nil, drift: drift))
    }

    /// V3 temporal: finite steps, no step-norm blow-up, no R1 → R3 relapse, final phase not R3, cores not collapsed.
    public static func temporal(_ r: TrajectoryReport, thresholds t: ValidationThresholds = ValidationThresholds()) -> [ValidationCheck] {
        var checks: [ValidationCheck] = []
        let norms = r.steps.compactMap { $0.stepNorm }
        let finite = norms.allSatisfy { $0.isFinite }
        checks.append(ValidationCheck(layer: "V3", name: "finite_steps", status: finite ? .pass : .fail, value: .bool(finite),
                                      message: finite ? "every step is finite" : "some steps are not finite"))
        if !norms.isEmpty {
            let med = Spectrum.median(norms)
            let worst = norms.max() ?? 0
            let ratio = med > 0 ? worst / med : (worst > 0 ? Double.infinity : 0)
            checks.append(ValidationCheck(layer: "V3", name: "step_norm", status: ratio <= t.stepNormFactor ? .pass : .fail,
                                          value: .num(ratio.isFinite ? ratio : nil), threshold: .num(t.stepNormFactor),
                                          message: "largest step norm is \(String(format: "%.2f", ratio))× the median"))
        }
        let labels = r.phases.map { $0.regime }
        var relapse: Int? = nil
        var seenR1 = false
        for p in r.phases {
            if p.regime == .r1 { seenR1 = true }
            if seenR1 && p.regime == .r3 { relapse = p.start; break }
        }
        checks.append(ValidationCheck(layer: "V3", name: "no_relapse", status: relapse == nil ? .pass : .fail,
                                      value: relapse.map { .int($0) } ?? .null,
                                      message: relapse == nil ? "the regime never moves back from R1 to R3" : "the regime moves back from R1 to R3 at step \(relapse!)"))
        let final = labels.last
        checks.append(ValidationCheck(layer: "V3", name: "final_phase", status: final == .r3 ? .fail : .pass, value: .string(final?.rawValue ?? "none"),
                                      message: final == .r3 ? "the trajectory ends dispersed (R3)" : "the final phase is \(final?.rawValue ?? "none")"))
        let rotations = r.steps.compactMap { $0.coreRotation }
        let moving = norms.contains { $0 > 0 }
        let collapsed = !rotations.isEmpty && rotations.allSatisfy { $0 > t.collapsedSimilarity } && moving && rotations.count == norms.count
        checks.append(ValidationCheck(layer: "V3", name: "cores_not_collapsed", status: collapsed ? .warn : .pass,
                                      value: .num(rotations.min()), threshold: .num(t.collapsedSimilarity),
                                      message: collapsed ? "every consecutive core similarity exceeds \(t.collapsedSimilarity) although the states change"
                                                         : "the cores move between steps"))
        return checks
    }

    /// V4 cross-model / cross-version: the alignment class is at least `required` (A1 best), and no significant
    /// drift against the reference (`no_drift`: the permutation test of docs/method.md §7, fails when p < α; the
    /// only check of the drift test).
    public static func crossModel(alignmentRegime: String?, required: String = "A2", drift: DriftReport? = nil) -> [ValidationCheck] {
        var checks: [ValidationCheck] = []
        if let a = alignmentRegime {
            let ok = a <= required   // "A1" < "A2" < "A3"
            checks.append(ValidationCheck(layer: "V4", name: "alignment", status: ok ? .pass : .fail, value: .string(a), threshold: .string(required),
                                          message: ok ? "alignment \(a) meets the required \(required)" : "alignment \(a) is below the required \(required)"))
        }
        if let drift {
            checks.append(ValidationCheck(layer: "V4", name: "no_drift", status: drift.drift ? .fail : .pass, value: .num(drift.pValue),
                                          threshold: .num(drift.alpha), message: drift.reasons.first ?? ""))
        }
        return checks
    }
}
