import Foundation
import Linear

/// Report pages for each analysis: the figures of spec §10's `--report DIR`, each with how to read it.
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
                    ["signal energy ρ", String(format: "%.3f", r.spectrum.signalEnergy), "R1 needs ρ ≥ \(r.thresholds.minSignalEnergy)"],
                    ["signal stability P*", r.signalStability.map { String(format: "%.3f (min %.3f)", $0.mean, $0.min) } ?? "—",
                     "R1 needs P* ≥ \(r.thresholds.stableSimilarity); R3 below \(r.thresholds.dispersedSimilarity)"],
                    ["participation ratio", String(format: "%.2f", r.spectrum.participationRatio), ""],
                    ["E₃ / E₆ / E₉", Ladder.cores.map { String(format: "%.3f", r.spectrum.coreEnergy[$0] ?? 0) }.joined(separator: " / "), ""],
                    ["TwoNN dimension", r.spectrum.twoNNDimension.map { String(format: "%.2f", $0) } ?? "—", ""],
                 ]))
        page.add("Spectrum", "Singular values of the centred states on a log scale. Those above the dashed Gavish–Donoho threshold count as signal (k*); a sharp elbow at k* means a clean low-rank signal, a slow decay means spread-out variance.",
                 svg: scree(r.spectrum), file: "spectrum")
        let k = Swift.min(3, states.shape[1])
        let p = try Projection.fit(states, options: ProjectionOptions(k: k))
        let z = try p.project(states)
        page.add("Core scatter (2-D)", "Each state in the first two principal directions. Clusters, lines or rings here are structure the 3-D core keeps.",
                 svg: coreScatter2D(z), file: "core2d")
        if k >= 3 {
            page.add("Core scatter (3-D)", "The same states in the first three directions, drawn in an oblique view.", svg: coreScatter3D(z), file: "core3d")
        }
        return page
    }

    /// Regime strip, core rotation and step norms along a trajectory.
    public static func trajectory(_ r: TrajectoryReport, source: String) -> HTMLReport {
        var page = HTMLReport(title: "Trajectory: " + r.phases.map { $0.regime.rawValue }.joined(separator: " → "),
                              subtitle: "\(source): \(r.steps.count) steps")
        page.add("Regime along the trajectory", "One cell per recorded step, coloured by its latent regime (green R1 stable, orange R2 transitional, red R3 dispersed). Phases: "
                 + r.phases.map { "\($0.regime.rawValue) steps \($0.start)–\($0.end)" }.joined(separator: "; ") + ".",
                 svg: SVGPlot.strip(title: "Regime per step", labels: r.steps.map { $0.report.regime.rawValue }), file: "regime_strip")
        let rot = r.steps.compactMap { s in s.coreRotation.map { (Double(s.t), $0) } }
        page.add("Core rotation", "Similarity (mean cos² of principal angles) between the signal subspaces of consecutive steps: 1 means the core holds still, low values mean it turns.",
                 svg: SVGPlot.line(title: "Core rotation between steps", xLabel: "step t", yLabel: "similarity of cores t, t+1", series: [SVGPlot.Series("similarity", rot)]),
                 file: "core_rotation")
        page.add("Signal rank and energy", "k* and ρ per step: a sampler refining towards data usually shows k* falling from noise-level to the data's rank.",
                 svg: SVGPlot.line(title: "Signal rank per step", xLabel: "step t", yLabel: "k*",
                                   series: [SVGPlot.Series("k*", r.steps.map { (Double($0.t), Double($0.report.spectrum.signalRank)) })]),
                 file: "signal_rank")
        let norms = r.steps.compactMap { s in s.stepNorm.map { (Double(s.t), $0) } }
        page.add("Step norms", "Mean distance moved per step; a spike (V3 checks 10× the median) points to an unstable step.",
                 svg: SVGPlot.line(title: "Mean step norm", xLabel: "step t", yLabel: "‖x_{t+1} − x_t‖", series: [SVGPlot.Series("step", norms)]),
                 file: "step_norm")
        if let first = r.samplePaths.first, first.first?.count ?? 0 >= 2 {
            let series = r.samplePaths.enumerated().map { i, path in SVGPlot.Series("sample \(i)", path.map { ($0[0], $0[1]) }) }
            page.add("Paths in the final core", "A few samples' paths in the 2-D core fitted on the final step, from start to end.",
                     svg: SVGPlot.line(title: "Sample paths (z₁, z₂)", xLabel: "z₁", yLabel: "z₂", series: series, markers: false), file: "paths")
        }
        return page
    }

    /// Per-rung curves of a scaling study.
    public static func scaling(_ r: ScalingReport) -> HTMLReport {
        var page = HTMLReport(title: "Scaling regime: \(r.regime.rawValue)", subtitle: "rungs d = " + r.rungs.map { String($0.d) }.joined(separator: ", "))
        page.add("Verdict", r.reasons.joined(separator: ". ") + (r.changeRung.map { ". The class first changes at d = \($0)." } ?? ""),
                 table: (["d", "n", "k*", "ρ", "PR", "E₉", "P*", "P(9)", "round trip", "fit s"], r.rungs.map { g in
                     [String(g.d), String(g.n), String(g.report.spectrum.signalRank), String(format: "%.3f", g.report.spectrum.signalEnergy),
                      String(format: "%.2f", g.report.spectrum.participationRatio), String(format: "%.3f", g.report.spectrum.coreEnergy[9] ?? 0),
                      g.report.signalStability.map { String(format: "%.3f", $0.mean) } ?? "—",
                      g.report.coreStability[9].map { String(format: "%.3f", $0.mean) } ?? "—",
                      String(format: "%.1e", g.roundTripError), String(format: "%.3f", g.fitSeconds)]
                 }))
        let d = r.rungs.map { Double($0.d) }
        page.add("Scaling law", "k* and participation ratio against d on log–log axes; the fitted slopes are the measured scaling law" +
                 (r.signalRankLaw.map { String(format: " (k* ∝ d^%.2f, R² %.2f", $0.slope, $0.r2) + ")" } ?? "") +
                 (r.participationLaw.map { String(format: "; PR ∝ d^%.2f, R² %.2f", $0.slope, $0.r2) } ?? "") + ".",
                 svg: SVGPlot.line(title: "Effective dimension across the ladder", xLabel: "d (log)", yLabel: "value (log)",
                                   series: [SVGPlot.Series("k*", zip(d, r.rungs.map { Double($0.report.spectrum.signalRank) }).map { ($0, $1) }),
                                            SVGPlot.Series("PR", zip(d, r.rungs.map { $0.report.spectrum.participationRatio }).map { ($0, $1) })],
                                   logX: true, logY: true), file: "scaling_law")
        page.add("Stability per rung", "P* (signal stability) and P(9) per rung; S1 needs P* ≥ 0.9 everywhere, S3 is triggered below 0.5.",
                 svg: SVGPlot.line(title: "Stability across the ladder", xLabel: "d (log)", yLabel: "similarity",
                                   series: [SVGPlot.Series("P*", zip(d, r.rungs.map { $0.report.signalStability?.mean ?? .nan }).map { ($0, $1) }),
                                            SVGPlot.Series("P(9)", zip(d, r.rungs.map { $0.report.coreStability[9]?.mean ?? .nan }).map { ($0, $1) })],
                                   logX: true, hLines: [(0.9, "S1: 0.9"), (0.5, "S3: 0.5")]), file: "stability")
        return page
    }

    /// Drift figures: distances and the verdict.
    public static func drift(_ r: DriftReport, reference: String, candidate: String) -> HTMLReport {
        var page = HTMLReport(title: r.drift ? "Drift detected" : "No significant drift", subtitle: "reference \(reference) vs candidate \(candidate)")
        page.add("Verdict", r.reasons.joined(separator: ". ") + ".",
                 table: (["measure", "value"], [
                    ["MMD² (unbiased)", String(format: "%.4g", r.mmd2)], ["permutation p", String(format: "%.4f", r.pValue)],
                    ["bandwidth h", String(format: "%.4g", r.bandwidth2.squareRoot())],
                    ["Fréchet distance", String(format: "%.4g", r.frechetDistance)], ["core Fréchet distance", String(format: "%.4g", r.coreFrechetDistance)],
                    ["core similarity", r.coreSimilarity.map { String(format: "%.3f", $0) } ?? "—"],
                    ["ΔE₉", String(format: "%+.3f", r.coreEnergyDelta)], ["regimes", "\(r.regimeA.rawValue) → \(r.regimeB.rawValue)"],
                 ]))
        page.add("KS per core coordinate", "Two-sample Kolmogorov–Smirnov statistic of each coordinate of the 9-D core fitted on the reference; Bonferroni-flagged coordinates: "
                 + (r.ks.flagged.isEmpty ? "none" : r.ks.flagged.map { String($0 + 1) }.joined(separator: ", ")) + ".",
                 svg: SVGPlot.bars(title: "KS statistic per core coordinate", yLabel: "D = sup|F_A − F_B|",
                                   labels: r.ks.statistics.indices.map { "z\($0 + 1)" }, values: r.ks.statistics,
                                   colors: r.ks.statistics.indices.map { r.ks.flagged.contains($0) ? "#D55E00" : "#0072B2" }), file: "ks")
        return page
    }
}
