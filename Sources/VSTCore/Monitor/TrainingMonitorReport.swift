import Foundation
import Linear
import Substrate

/// The page of a `TrainingMonitor`: its health (flags), then MMD², precision and recall against held-out data with
/// the Gaussian baseline as a dashed line, k* and the regime, the drift between consecutive points and the training
/// loss, each against the training step, and a table of every point. `html(jsonFile:)` is one self-contained file
/// (the figures inline: `<model>.monitor.html`); `report` is the same sections as an `HTMLReport`, whose `write`
/// gives the report directory (`index.html` + one SVG per figure) that scripts/check-report.sh checks.
public struct TrainingMonitorReport {
    public let report: HTMLReport

    public init(_ m: TrainingMonitor) {
        let s = m.settings
        let pts = m.points
        let health = m.health
        let last = pts.last?.step ?? s.firstStep
        let title: String
        switch health {
        case .healthy: title = "Training monitor: \(s.family) on \(s.data), no sign of divergence or collapse"
        case .diverging: title = "Training monitor: \(s.family) on \(s.data) looks DIVERGING"
        case .collapsing: title = "Training monitor: \(s.family) on \(s.data) looks COLLAPSING"
        }
        var page = HTMLReport(title: title, subtitle: "\(s.model): step \(last) of \(s.totalSteps); a point every \(s.every) steps on the same \(s.samples) noise rows (\(s.sampler)); reference: \(s.reference). The page is rewritten at every point: reload it to follow the run.")
        let xDomain = (Double(s.firstStep), Double(Swift.max(s.totalSteps, s.firstStep + 1)))
        let xs = pts.map { Double($0.step) }
        func series(_ name: String, _ v: (TrainingMonitorPoint) -> Double?, color: String? = nil) -> SVGPlot.Series {
            SVGPlot.Series(name, zip(xs, pts).compactMap { x, p in v(p).map { (x, $0) } }, color: color)
        }
        func level(_ name: String, _ v: Double, color: String) -> SVGPlot.Series {
            SVGPlot.Series(name, [(xDomain.0, v), (xDomain.1, v)], dashed: true, color: color)
        }
        func n(_ v: Double?) -> String { SVGPlot.number(v) }
        let o = m.overhead

        // Health.
        let rules = "diverging = non-finite samples, MMD² rising at each of the last 3 points to more than twice the first, MMD² above the Gaussian baseline's and more than twice the best earlier point's when that one was below it, or a stop on a non-finite loss; collapsing = precision ≥ 0.5 with recall < 0.05, k* down to 0 or 1 while the data's is \(m.referenceSignalRank), or samples spread over less than 5 % of the data's √(tr Σ)"
        var healthText = m.flags.isEmpty ? "No flag raised (\(rules))." : "Latest state: \(health.rawValue). Flags in order, by the rules of the stderr line of vst train (\(rules))."
        healthText += " Monitor time so far \(n(o.monitor)) s against \(n(o.training)) s of training (\(n(100 * o.fraction)) %)."
        page.add("Health", healthText, table: m.flags.isEmpty ? nil : (["step", "flag", "why"], m.flags.map { [String($0.step), $0.kind.rawValue, $0.reason] }))

        page.add("MMD² against held-out data",
                 "Unbiased MMD² (RBF kernel, bandwidth from the reference) of the samples against the reference, lower is better; the dashed line is the moment-matched Gaussian baseline (\(n(m.baselineMMD2))). A model that has learned the data lies below it.",
                 svg: SVGPlot.line(title: "MMD² vs training step", xLabel: "training step", yLabel: "MMD²",
                                   series: [series("model", \.mmd2), level("Gaussian baseline", m.baselineMMD2, color: "#999999")], xDomain: xDomain),
                 file: "mmd2")
        page.add("Precision and recall",
                 "Precision: the fraction of samples inside the data's k-NN balls (k = \(s.precisionK)); recall: the fraction of data points inside the samples' balls. Dashed: the Gaussian baseline's (precision \(n(m.baselinePrecision)), recall \(n(m.baselineRecall))). High precision with recall near 0 is collapse.",
                 svg: SVGPlot.line(title: "Precision and recall vs training step", xLabel: "training step", yLabel: "fraction",
                                   series: [series("precision", \.precision, color: SVGPlot.palette[0]), series("recall", \.recall, color: SVGPlot.palette[1]),
                                            level("baseline precision", m.baselinePrecision, color: "#7FB3D5"),
                                            level("baseline recall", m.baselineRecall, color: "#F5CBA7")],
                                   xDomain: xDomain, yDomain: (0, 1)),
                 file: "precision-recall")
        page.add("Signal rank k*",
                 "k*: singular values of the centred samples above the Gavish–Donoho threshold. Dashed: the reference data's k* (\(m.referenceSignalRank), regime \(m.referenceRegime)). Samples that keep full-rank noise have k* far above it; a collapsed model falls to 0 or 1.",
                 svg: SVGPlot.line(title: "k* vs training step", xLabel: "training step", yLabel: "k*",
                                   series: [series("samples", { $0.signalRank.map(Double.init) }), level("data", Double(m.referenceSignalRank), color: "#999999")],
                                   xDomain: xDomain),
                 file: "kstar")
        let regimes = pts.compactMap { p in p.regime.map { (p.step, $0) } }
        if !regimes.isEmpty {
            page.add("Regime",
                     "The samples' regime at each point (R1 stable and compact, R2 transitional, R3 dispersed; docs/method.md §4); each cell lasts until the next point. The reference data are \(m.referenceRegime).",
                     svg: SVGPlot.strip(title: "Regime of the samples", labels: regimes.map(\.1), steps: regimes.map(\.0), xLabel: "training step"),
                     file: "regime")
        }
        page.add("Drift between points",
                 "Fréchet distance between the samples of a point and those of the previous point (same noise rows), in model units²: large while the model still moves, near 0 once it has settled; a rise late in training is a warning.",
                 svg: SVGPlot.line(title: "Drift from the previous point", xLabel: "training step", yLabel: "Fréchet distance",
                                   series: [series("Fréchet distance", \.driftFrechet)], xDomain: xDomain),
                 file: "drift")
        page.add("Training loss",
                 "Mean \(m.lossName ?? "loss") over the steps since the previous point.",
                 svg: SVGPlot.line(title: "Training loss vs step", xLabel: "training step", yLabel: m.lossName ?? "loss",
                                   series: [series(m.lossName ?? "loss", \.loss)], xDomain: xDomain),
                 file: "loss")
        let rows: [[String]] = pts.map { p in
            [String(p.step), n(p.loss), n(p.mmd2), n(p.precision), n(p.recall), p.signalRank.map(String.init) ?? "—", p.regime ?? "—",
             n(p.driftFrechet), n(p.finiteFraction), p.flags.isEmpty ? "—" : p.flags.map(\.rawValue).joined(separator: ", ")]
        }
        page.add("Every point",
                 "Baseline: MMD² \(n(m.baselineMMD2)), precision \(n(m.baselinePrecision)), recall \(n(m.baselineRecall)); reference: \(m.reference.shape[0]) rows, k* \(m.referenceSignalRank)."
                     + (pts.contains { $0.error != nil } ? " Errors: " + pts.compactMap { p in p.error.map { "step \(p.step): \($0)" } }.joined(separator: "; ") + "." : ""),
                 table: (["step", "loss", "MMD²", "precision", "recall", "k*", "regime", "drift FD", "finite", "flags"], rows))
        report = page
    }

    /// The page as one self-contained file: `HTMLReport`'s page with each figure inlined and the numbers' link
    /// pointing at `jsonFile`.
    public func html(jsonFile: String) -> String {
        var page = report.html()
        for s in report.sections {
            guard let svg = s.svg, let file = s.file else { continue }
            let tag = "<img src=\"\(file).svg\" alt=\"\(Self.escText(s.heading))\">"
            // Inline SVG in HTML needs no namespace, and without it the page names no web address at all.
            let inline = svg.replacingOccurrences(of: " xmlns=\"http://www.w3.org/2000/svg\"", with: "")
            page = page.replacingOccurrences(of: tag, with: "<div class=\"figure\" role=\"img\" aria-label=\"\(Self.esc(s.heading))\">\(inline)</div>")
        }
        return page.replacingOccurrences(of: "<a href=\"report.json\">report.json</a>", with: "<a href=\"\(Self.esc(jsonFile))\">\(Self.esc(jsonFile))</a>")
    }

    /// HTMLReport's escaping of text (no quotes), to find its image tags.
    static func escText(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
