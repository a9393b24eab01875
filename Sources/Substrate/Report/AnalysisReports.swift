import Foundation
import Linear

/// Report pages for each analysis: the figures of docs/method.md §10's `--report DIR`, each with how to read it.
public enum AnalysisReports {
    /// Scree plot of singular values (log scale) with the Gavish–Donoho threshold.
    public static func scree(_ s: SpectrumStatistics, title: String = "Spectrum") -> String {
        let pts = s.singularValues.prefix(200).enumerated().map { (Double($0.offset + 1), $0.element) }
        return SVGPlot.line(title: title, xLabel: "component i", yLabel: "singular value σᵢ (log)",
                            series: [SVGPlot.Series("σ", Array(pts))], logY: true,
                            hLines: [(s.threshold, "Gavish–Donoho τ (k* = \(s.signalRank))")])
    }

    /// 2-D scatter of the first two core coordinates, coloured by group.
    public static func coreScatter2D(_ z: Tensor<Double>, groups: [Int]? = nil, groupNames: [String] = ["states"], title: String = "Core: z₁ vs z₂") -> String {
        let n = z.shape[0], k = z.shape[1]
        let pts = (0..<Swift.min(n, 3000)).map { i in (z[i, 0], k > 1 ? z[i, 1] : 0, groups?[i] ?? 0) }
        return SVGPlot.scatter(title: title, xLabel: "z₁", yLabel: "z₂", points: pts, groupNames: groupNames)
    }

    /// 3-D scatter of the first three core coordinates, drawn in an oblique (isometric-style) view.
    public static func coreScatter3D(_ z: Tensor<Double>, groups: [Int]? = nil, groupNames: [String] = ["states"], title: String = "Core: (z₁, z₂, z₃)") -> String {
        let n = z.shape[0], k = z.shape[1]
        let c = Foundation.cos(Double.pi / 6), s = Foundation.sin(Double.pi / 6)
        let pts = (0..<Swift.min(n, 3000)).map { i -> (Double, Double, Int) in
            let x = z[i, 0], y = k > 1 ? z[i, 1] : 0, w = k > 2 ? z[i, 2] : 0
            return ((x - y) * c, w + (x + y) * s * 0.5, groups?[i] ?? 0)
        }
        return SVGPlot.scatter(title: title + " — oblique view", xLabel: "(z₁ − z₂)·cos 30°", yLabel: "z₃ + ½(z₁ + z₂)·sin 30°", points: pts, groupNames: groupNames)
    }

    /// Spectrum, core scatter and regime verdict of one set of states.
    public static func regimes(_ r: RegimeReport, states: Tensor<Double>, source: String) throws -> HTMLReport {
        var page = HTMLReport(title: "Latent regime: \(r.regime.rawValue)", subtitle: "\(source): n = \(r.spectrum.n), D = \(r.spectrum.d)")
        page.add("Verdict", r.reasons.joined(separator: ". ") + (r.warnings.isEmpty ? "" : " Warning: " + r.warnings.joined(separator: " ")),
                 table: (["measure", "value", "rule"], [
                    ["signal rank k*", "\(r.spectrum.signalRank)", "R1 needs 1 ≤ k* ≤ \(r.thresholds.maxCoreRank)"],
                    ["signal energy ρ", SVGPlot.number(r.spectrum.signalEnergy), "R1 needs ρ ≥ \(SVGPlot.number(r.thresholds.minSignalEnergy))"],
                    ["signal stability P*", r.signalStability.map { "\(SVGPlot.number($0.mean)) (min \(SVGPlot.number($0.min)))" } ?? "—",
                     "R1 needs P* ≥ \(SVGPlot.number(r.thresholds.stableSimilarity)); R3 below \(SVGPlot.number(r.thresholds.dispersedSimilarity))"],
                    ["participation ratio", SVGPlot.number(r.spectrum.participationRatio), ""],
                    ["E₃ / E₆ / E₉", Ladder.cores.map { SVGPlot.number(r.spectrum.coreEnergy[$0]) }.joined(separator: " / "), ""],
                    ["TwoNN dimension", SVGPlot.number(r.spectrum.twoNNDimension), ""],
                 ]))
        page.add("Spectrum", "Singular values of the centred states on a log scale. Those above the dashed Gavish–Donoho threshold count as signal (k*); a sharp elbow at k* means a clean low-rank signal, a slow decay means spread-out variance.",
                 svg: scree(r.spectrum), file: "spectrum")
        let k = Swift.min(9, states.shape[1], Swift.max(1, states.shape[0] - 1))
        let p = try Projection.fit(states, options: ProjectionOptions(k: k))
        let z = try p.project(states)
        page.add("Core scatter (2-D)", "Each state in the first two principal directions. Clusters, lines or rings here are structure the 3-D core keeps.",
                 svg: coreScatter2D(z), file: "core2d")
        if k >= 3 {
            page.add("Core scatter (3-D)", "The states in the \(k)-D core: pick any three of its axes, drag to turn the cloud and use the wheel to zoom. The static oblique view of z₁, z₂, z₃ below is kept for printing.",
                     svg: coreScatter3D(z), file: "core3d",
                     viewer: try CoreViewer(title: "The \(k)-D core", axes: CoreViewer.axisNames(k),
                                            sets: [.init(name: "states", color: SVGPlot.palette[0], points: z.shape[0] > 3000 ? z.slice(0..<3000) : z)]))
        }
        return page
    }

    /// Regime strip, core rotation and step norms along a trajectory. Every time axis is in sampler steps and spans the
    /// whole recorded path (first to last recorded step), so the figures line up and a single point is never shown
    /// on an axis of its own.
    public static func trajectory(_ r: TrajectoryReport, source: String) -> HTMLReport {
        var page = HTMLReport(title: "Trajectory: " + r.phases.map { $0.regime.rawValue }.joined(separator: " → "),
                              subtitle: "\(source): \(r.steps.count) recorded steps" + (r.steps.last.map { " (sampler steps \(r.steps[0].t)–\($0.t))" } ?? ""))
        let steps = r.steps.map { $0.t }
        let domain = (Double(steps.first ?? 0), Double(Swift.max(steps.last ?? 1, (steps.first ?? 0) + 1)))
        page.add("Regime along the trajectory", "Each recorded state coloured by its latent regime (blue R1 stable, orange R2 transitional, purple R3 dispersed), placed at its sampler step; a cell lasts until the next recorded step. Phases (sampler steps): "
                 + r.phases.map { "\($0.regime.rawValue) \($0.start)–\($0.end)" }.joined(separator: "; ") + ".",
                 svg: SVGPlot.strip(title: "Regime per sampler step", labels: r.steps.map { $0.report.regime.rawValue }, steps: steps), file: "regime_strip")
        let rot = r.steps.compactMap { s in s.coreRotation.map { (Double(s.t), $0) } }
        // Steps without a rotation (no signal subspace at the step or the next one: k* = 0) leave a gap to explain.
        let missing = r.steps.indices.dropLast().filter { r.steps[$0].coreRotation == nil }
        let noSignal = missing.allSatisfy { r.steps[$0].report.spectrum.signalRank == 0 || r.steps[$0 + 1].report.spectrum.signalRank == 0 }
        let gap = missing.isEmpty ? "" : " No point at " + (missing.count == 1 ? "sampler step \(r.steps[missing[0]].t)"
                                                           : "\(missing.count) recorded steps between sampler steps \(r.steps[missing.first!].t) and \(r.steps[missing.last!].t)")
            + (noSignal ? ": k* = 0 there or at the next step (no direction stands above the noise), so there is no signal subspace to compare." : ": the similarity is undefined there.")
        page.add("Core rotation", "Similarity (mean cos² of principal angles) between the signal subspaces of a recorded step and the next one, plotted at the earlier step: 1 means the core holds still, low values mean it turns." + gap,
                 svg: SVGPlot.line(title: "Core rotation between recorded steps", xLabel: "sampler step t", yLabel: "similarity of cores t, next",
                                   series: [SVGPlot.Series("similarity", rot)], xDomain: domain, yDomain: (0, 1)),
                 file: "core_rotation")
        let ranks = r.steps.map { $0.report.spectrum.signalRank }
        let rankStory = ranks.count < 2 ? "" : " Here k* goes from \(ranks.first!) at sampler step \(r.steps.first!.t) to \(ranks.last!) at \(r.steps.last!.t)"
            + " (range \(ranks.min()!)–\(ranks.max()!))."
        page.add("Signal rank and energy", "k* per recorded step, the number of directions above the noise threshold: pure noise has (almost) none, and a sampler refining towards data moves k* to the data's rank." + rankStory,
                 svg: SVGPlot.line(title: "Signal rank per sampler step", xLabel: "sampler step t", yLabel: "k*",
                                   series: [SVGPlot.Series("k*", r.steps.map { (Double($0.t), Double($0.report.spectrum.signalRank)) })], xDomain: domain),
                 file: "signal_rank")
        let norms = r.steps.compactMap { s in s.stepNorm.map { (Double(s.t), $0) } }
        page.add("Step norms", "Mean distance moved from a recorded step to the next; a spike (V3 checks 10× the median) points to an unstable step.",
                 svg: SVGPlot.line(title: "Mean step norm", xLabel: "sampler step t", yLabel: "‖x_next − x_t‖", series: [SVGPlot.Series("step", norms)], xDomain: domain),
                 file: "step_norm")
        if let first = r.samplePaths.first, first.first?.count ?? 0 >= 2 {
            let series = r.samplePaths.enumerated().map { i, path in SVGPlot.Series("sample \(i)", path.map { ($0[0], $0[1]) }) }
            let k = first.first!.count
            var viewer: CoreViewer? = nil
            if k >= 3, first.count == steps.count {
                // Every path has one point per recorded step, so these shapes always agree.
                let frames = steps.indices.compactMap { t in try? Tensor<Double>(r.samplePaths.flatMap { $0[t] }, shape: [r.samplePaths.count, k]) }
                viewer = try? CoreViewer(title: "Sample paths in the final \(k)-D core", axes: CoreViewer.axisNames(k),
                                        sets: [.init(name: "samples", color: SVGPlot.palette[0], frames: frames)], steps: steps)
            }
            page.add("Paths in the final core", "A few samples' paths in the core fitted on the final step, from start to end." + (viewer == nil ? "" : " Turn the core, pick any three of its axes and move the slider over sampler steps to follow the samples; the printed page shows their paths in (z₁, z₂)."),
                     svg: SVGPlot.line(title: "Sample paths (z₁, z₂)", xLabel: "z₁", yLabel: "z₂", series: series, markers: false), file: "paths",
                     viewer: viewer)
        }
        return page
    }

    /// Per-rung curves of a scaling study.
    public static func scaling(_ r: ScalingReport) -> HTMLReport {
        var page = HTMLReport(title: "Scaling regime: \(r.regime.rawValue)", subtitle: "rungs d = " + r.rungs.map { String($0.d) }.joined(separator: ", "))
        page.add("Verdict", r.reasons.joined(separator: ". ") + (r.changeRung.map { ". The class first changes at d = \($0)." } ?? ""),
                 table: (["d", "n", "k*", "ρ", "PR", "E₉", "P*", "P(9)", "round trip", "fit s"], r.rungs.map { g in
                     [String(g.d), String(g.n), String(g.report.spectrum.signalRank), SVGPlot.number(g.report.spectrum.signalEnergy),
                      SVGPlot.number(g.report.spectrum.participationRatio), SVGPlot.number(g.report.spectrum.coreEnergy[9]),
                      SVGPlot.number(g.report.signalStability?.mean), SVGPlot.number(g.report.coreStability[9]?.mean),
                      SVGPlot.number(g.roundTripError), SVGPlot.number(g.fitSeconds)]
                 }))
        let d = r.rungs.map { Double($0.d) }
        page.add("Scaling law", "k* and participation ratio against d on log–log axes; the fitted slopes are the measured scaling law" +
                 (r.signalRankLaw.map { String(format: " (k* ∝ d^%.2f, R² %.2f", $0.slope, $0.r2) + ")" } ?? "") +
                 (r.participationLaw.map { String(format: "; PR ∝ d^%.2f, R² %.2f", $0.slope, $0.r2) } ?? "") + ".",
                 svg: SVGPlot.line(title: "Effective dimension across the ladder", xLabel: "d (log)", yLabel: "value (log)",
                                   series: [SVGPlot.Series("k*", zip(d, r.rungs.map { Double($0.report.spectrum.signalRank) }).map { ($0, $1) }),
                                            SVGPlot.Series("PR", zip(d, r.rungs.map { $0.report.spectrum.participationRatio }).map { ($0, $1) })],
                                   logX: true, logY: true, xTicks: d), file: "scaling_law")
        let s1 = ScalingThresholds().stableSimilarity, s3 = ScalingThresholds().dispersedSimilarity   // the rules of docs/method.md §6 (Scaling.analyze's defaults)
        page.add("Stability per rung", "The verdict's rule is on P*, the half-split stability of the signal subspace (k* directions): S1 needs P* ≥ \(SVGPlot.number(s1)) at every rung, S3 is triggered below \(SVGPlot.number(s3)); the dashed lines are those thresholds on P*. P(9), the stability of the fixed 9-D core, is drawn dashed for context only: when k* is below 9 the extra noise directions make it low, and no rule uses it.",
                 svg: SVGPlot.line(title: "Stability across the ladder (rules on P*)", xLabel: "d (log)", yLabel: "half-split similarity",
                                   series: [SVGPlot.Series("P* (signal, the rule's quantity)", zip(d, r.rungs.map { $0.report.signalStability?.mean ?? .nan }).map { ($0, $1) }),
                                            SVGPlot.Series("P(9) (9-D core, context)", zip(d, r.rungs.map { $0.report.coreStability[9]?.mean ?? .nan }).map { ($0, $1) },
                                                           dashed: true, color: "#999999")],
                                   logX: true, hLines: [(s1, "S1 needs P* ≥ \(SVGPlot.number(s1))"), (s3, "S3 if P* < \(SVGPlot.number(s3))")],
                                   yDomain: (0, 1), xTicks: d), file: "stability")
        return page
    }

    /// Drift figures: distances and the verdict.
    public static func drift(_ r: DriftReport, reference: String, candidate: String) -> HTMLReport {
        var page = HTMLReport(title: r.drift ? "Drift detected" : "No significant drift", subtitle: "reference \(reference) vs candidate \(candidate)")
        page.add("Verdict", r.reasons.joined(separator: ". ") + ".",
                 table: (["measure", "value"], [
                    ["MMD² (unbiased)", SVGPlot.number(r.mmd2)], ["permutation p", SVGPlot.number(r.pValue)],
                    ["bandwidth h", SVGPlot.number(r.bandwidth2.squareRoot())],
                    ["Fréchet distance", SVGPlot.number(r.frechetDistance)], ["core Fréchet distance", SVGPlot.number(r.coreFrechetDistance)],
                    ["core similarity", SVGPlot.number(r.coreSimilarity)],
                    ["ΔE₉", String(format: "%+.3f", r.coreEnergyDelta)], ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
                 ]))
        page.add("KS per core coordinate", "Two-sample Kolmogorov–Smirnov statistic of each coordinate of the 9-D core fitted on the reference; Bonferroni-flagged coordinates: "
                 + (r.ks.flagged.isEmpty ? "none" : r.ks.flagged.map { String($0 + 1) }.joined(separator: ", ")) + ".",
                 svg: SVGPlot.bars(title: "KS statistic per core coordinate", yLabel: "D = sup|F_A − F_B|",
                                   labels: r.ks.statistics.indices.map { "z\($0 + 1)" }, values: r.ks.statistics,
                                   colors: r.ks.statistics.indices.map { r.ks.flagged.contains($0) ? "#D55E00" : "#0072B2" }), file: "ks")
        return page
    }

    /// The validation checklist as a table for people, one row per check: values and thresholds formatted
    /// (`HTMLReport.cell`: three significant digits, "—" for none, no JSON quotes). The drift test is one check (V4
    /// `no_drift`), so it has one row; files that hold it twice read as one (`ValidationReport(json:)`).
    /// Columns: layer, check, status, value, threshold (when `threshold`), message.
    public static func validationTable(_ checks: [ValidationCheck], threshold: Bool = true) -> ([String], [[String]]) {
        var rows: [[String]] = []
        for c in checks {
            var row = [c.layer, c.name, c.status.rawValue, HTMLReport.cell(c.value)]
            if threshold { row.append(HTMLReport.cell(c.threshold)) }
            row.append(c.message)
            rows.append(row)
        }
        return (["layer", "check", "status", "value"] + (threshold ? ["threshold"] : []) + ["message"], rows)
    }
}
