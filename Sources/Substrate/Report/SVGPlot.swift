import Foundation

/// A small SVG chart writer for reports: line charts (optionally log-scaled, with horizontal reference lines),
/// scatter plots by group, bar charts and regime strips. Output is self-contained SVG text.
///
/// Every numeric axis carries at least three labelled ticks at "nice" numbers (1, 2, 5 × 10ᵏ) chosen by
/// Heckbert's loose-labelling algorithm (P. S. Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990),
/// legends sit in a band above the plot area (never over the data), and colours come from the Okabe–Ito
/// colour-blind-safe palette (M. Okabe and K. Ito, "Color Universal Design", 2008). Axes, ticks, legends and data
/// marks carry `class` attributes (`axis x|y numeric|categorical`, `tick`, `legend-box`, `point`, `series`) so a
/// checker can verify those properties on the SVG text.
public enum SVGPlot {
    /// Colours for series and groups (Okabe–Ito: blue, orange, bluish green, reddish purple, sky blue, vermillion,
    /// black, yellow — yellow last, it is weak on white).
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]
    /// Colours of the regimes: 1 blue (stable), 2 orange (transitional), 3 reddish purple (dispersed). Three
    /// Okabe–Ito colours that differ in hue and lightness, so they stay apart under deuteranopia and protanopia too.
    public static let regimeColors = ["R1": "#0072B2", "R2": "#E69F00", "R3": "#CC79A7",
                                      "S1": "#0072B2", "S2": "#E69F00", "S3": "#CC79A7",
                                      "A1": "#0072B2", "A2": "#E69F00", "A3": "#CC79A7"]
    /// Colour of threshold lines (vermillion, not used by regimes).
    static let thresholdColor = "#D55E00"

    public struct Series: Sendable {
        public var name: String
        public var points: [(Double, Double)]
        public var dashed: Bool
        /// Colour override (default: the palette by position).
        public var color: String?
        public init(_ name: String, _ points: [(Double, Double)], dashed: Bool = false, color: String? = nil) {
            self.name = name; self.points = points; self.dashed = dashed; self.color = color
        }
    }

    static let width = 640.0, height = 360.0
    static let left = 78.0, right = 20.0, top = 36.0, bottom = 48.0

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func f2(_ v: Double) -> String { String(format: "%.2f", v) }

    // MARK: Numbers for people

    /// A number for a table or label: three significant digits, plain decimals between 10⁻³ and 10⁵ (whole numbers
    /// keep all their digits), scientific notation outside, never rounded up to the next power of ten (0.9999 is
    /// "0.9999", not "1.000"); "—" for nil, NaN and ±∞.
    public static func number(_ v: Double?, digits: Int = 3) -> String {
        guard let v, v.isFinite else { return "—" }
        if v == 0 { return "0" }
        let a = Swift.abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.\(Swift.max(0, digits - 1))e", v) }
        if v == v.rounded() && a < 1e5 { return String(format: "%.0f", v) }
        let e = Int(Foundation.floor(Foundation.log10(a)))
        var decimals = Swift.max(0, digits - 1 - e)
        var s = String(format: "%.\(decimals)f", v)
        // Rounding up to the next power of ten would hide the digits that matter (a similarity threshold of 0.9999
        // read "1.000", a p-value of 0.9996 "1.000"): add digits (at most two more) until it does not.
        while decimals < digits + 1 - e, let r = Double(s), Swift.abs(r) >= Foundation.pow(10, Double(e + 1)) {
            decimals += 1
            s = String(format: "%.\(decimals)f", v)
        }
        return s
    }

    /// "1.50" → "1.5", "2.00e-05" → "2e-05": log-axis ticks are exact 1-2-5 values, trailing zeros say nothing.
    static func trimmed(_ s: String) -> String {
        let parts = s.split(separator: "e", maxSplits: 1).map(String.init)
        guard parts[0].contains(".") else { return s }
        var m = parts[0]
        while m.hasSuffix("0") { m.removeLast() }
        if m.hasSuffix(".") { m.removeLast() }
        return m + (parts.count > 1 ? "e" + parts[1] : "")
    }

    // MARK: Ticks

    /// Heckbert's nice number near `x`: 1, 2, 5 or 10 times a power of ten (rounded, or the next one up).
    static func nice(_ x: Double, round: Bool) -> Double {
        let e = Foundation.floor(Foundation.log10(x)), f = x / Foundation.pow(10, e)
        // A tolerance, so 1.5 − 1.4 = 0.10000000000000009 counts as 1 × 10⁻¹, not as just above it.
        let g = f * (1 - 1e-9)
        let n: Double = round ? (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) : (g <= 1 ? 1 : g <= 2 ? 2 : g <= 5 ? 5 : 10)
        return n * Foundation.pow(10, e)
    }

    /// Loose labelling of [lo, hi] (Heckbert 1990): a nice step d and the axis [⌊lo/d⌋·d, ⌈hi/d⌉·d], so the axis ends
    /// on ticks. Always at least three ticks; a single value v is shown on the nice interval around it, 0 on [−1, 1].
    public static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> (lo: Double, hi: Double, ticks: [Double]) {
        var (a, b) = (Swift.min(lo, hi), Swift.max(lo, hi))
        guard a.isFinite, b.isFinite else { return (0, 1, [0, 0.5, 1]) }
        if b - a <= Swift.max(Swift.abs(a), Swift.abs(b)) * 1e-12 {
            let m = Swift.abs(a)
            if m == 0 { (a, b) = (-1, 1) } else { let s = nice(m * 0.2, round: true); (a, b) = (a - s, b + s) }
        }
        let range = nice(b - a, round: false)
        var d = nice(range / Double(Swift.max(2, count) - 1), round: true)
        func layout(_ d: Double) -> (Double, Double, [Double]) {
            let g0 = Foundation.floor(a / d + 1e-9) * d, g1 = Foundation.ceil(b / d - 1e-9) * d
            let n = Int(((g1 - g0) / d).rounded())
            // Multiples of d computed from integers, so 0.1 + 0.2 never becomes 0.30000000000000004.
            let k0 = (g0 / d).rounded()
            var t = (0...Swift.max(0, n)).map { ((k0 + Double($0)) * d).nextToZero0() }
            // floor/ceil with a tolerance may land a rounding error inside the data; the end ticks then take the data's ends.
            t[0] = Swift.min(t[0], a); t[t.count - 1] = Swift.max(t[t.count - 1], b)
            return (t[0], t[t.count - 1], t)
        }
        var (g0, g1, t) = layout(d)
        while t.count < 3 { d = nice(d / 2.01, round: true); (g0, g1, t) = layout(d) }
        return (g0, g1, t)
    }

    /// Ticks of a log axis over [lo, hi] (lo > 0), with the axis range: whole decades when the data span at least
    /// two, else the 1-2-5 values inside the range, else linear nice numbers inside it — at least three in every case.
    public static func logTicks(_ lo: Double, _ hi: Double) -> (lo: Double, hi: Double, ticks: [Double]) {
        var (a, b) = (Swift.min(lo, hi), Swift.max(lo, hi))
        if b <= a * (1 + 1e-9) { (a, b) = (a / 1.25, b * 1.25) }
        let la = Foundation.log10(a), lb = Foundation.log10(b)
        let da = Int(Foundation.floor(la + 1e-9)), db = Int(Foundation.ceil(lb - 1e-9))
        if db - da >= 2 {
            let step = Swift.max(1, (db - da + 5) / 6)
            let top = da + ((db - da + step - 1) / step) * step
            return (Foundation.pow(10, Double(da)), Foundation.pow(10, Double(top)),
                    Swift.stride(from: da, through: top, by: step).map { Foundation.pow(10, Double($0)) })
        }
        var onetwofive: [Double] = []
        let lower = a * (1 - 1e-9), upper = b * (1 + 1e-9)
        for e in (da - 1)...db {
            let p: Double = Foundation.pow(10, Double(e))
            for m in [1.0, 2.0, 5.0] where m * p >= lower && m * p <= upper { onetwofive.append(m * p) }
        }
        if onetwofive.count >= 3 { return (a, b, onetwofive) }
        let lin = niceTicks(a, b, count: 4)
        var inside = lin.ticks.filter { $0 > 0 && $0 >= a * (1 - 1e-9) && $0 <= b * (1 + 1e-9) }
        if inside.count < 3 { inside = lin.ticks.filter { $0 > 0 } }
        return (Swift.min(a, inside.first ?? a), Swift.max(b, inside.last ?? b), inside)
    }

    /// Labels for a set of ticks: enough decimals to tell neighbours apart, the same for all; scientific outside
    /// [10⁻³, 10⁵).
    public static func tickLabels(_ ticks: [Double]) -> [String] {
        let big = ticks.map { Swift.abs($0) }.max() ?? 0
        let gaps = zip(ticks, ticks.dropFirst()).map { Swift.abs($1 - $0) }.filter { $0 > 0 }
        let step = gaps.min() ?? (big == 0 ? 1 : big)
        if big >= 1e5 || (big > 0 && big < 1e-3) || step < 1e-4 {
            let digits = Swift.min(4, Swift.max(0, Int(Foundation.floor(Foundation.log10(big))) - Int(Foundation.floor(Foundation.log10(step)))))
            return ticks.map { $0 == 0 ? "0" : String(format: "%.\(digits)e", $0) }
        }
        // Decimals of the step (2.5e-2 needs three).
        var decimals = 0
        while decimals < 6 && Swift.abs(step * Foundation.pow(10, Double(decimals)) - (step * Foundation.pow(10, Double(decimals))).rounded()) > 1e-6 { decimals += 1 }
        let nonInteger = ticks.contains { Swift.abs($0 * Foundation.pow(10, Double(decimals)) - ($0 * Foundation.pow(10, Double(decimals))).rounded()) > 1e-6 }
        if nonInteger { decimals = Swift.min(6, decimals + 1) }
        return ticks.map { String(format: "%.\(decimals)f", $0 == 0 ? 0 : $0) }
    }

    // MARK: Frame and axes

    /// The plot area of a chart: where the data go, in pixels.
    struct Layout {
        var top: Double
        var x0: Double { SVGPlot.left }
        var x1: Double { SVGPlot.width - SVGPlot.right }
        var y1: Double { SVGPlot.height - SVGPlot.bottom }
        var pw: Double { x1 - x0 }
        var ph: Double { y1 - top }
    }

    /// Width in pixels of a legend entry (12-px Helvetica is about 6.6 px per character; generous on purpose).
    static func legendEntryWidth(_ name: String) -> Double { 24 + 7 * Double(name.count) }

    /// Legend rows for a plot area `width` wide.
    static func legendRows(_ names: [String], width w: Double) -> [[Int]] {
        var rows: [[Int]] = [[]], used = 0.0
        for (i, n) in names.enumerated() {
            let e = legendEntryWidth(n)
            if used + e > w, !rows[rows.count - 1].isEmpty { rows.append([]); used = 0 }
            rows[rows.count - 1].append(i); used += e
        }
        return rows.filter { !$0.isEmpty }
    }

    /// The legend as a band between the title and the plot area (outside the data), with its bounding box as a
    /// `legend-box` rectangle; returns the SVG and the top of the plot area below it.
    static func legend(_ entries: [(String, String)], dashed: [Bool] = []) -> (String, Double) {
        guard !entries.isEmpty else { return ("", top) }
        let rows = legendRows(entries.map { $0.0 }, width: width - left - right)
        let y0 = 28.0
        var s = "<g class=\"legend\">\n"
        var maxW = 0.0
        for (r, row) in rows.enumerated() {
            var x = left
            let y = y0 + 12 + Double(r) * 16
            for i in row {
                let (name, color) = entries[i]
                if i < dashed.count, dashed[i] {
                    s += "<line x1=\"\(x)\" y1=\"\(y - 4)\" x2=\"\(x + 14)\" y2=\"\(y - 4)\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>"
                } else {
                    s += "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
                }
                s += "<text x=\"\(x + 16)\" y=\"\(y)\">\(esc(name))</text>\n"
                x += legendEntryWidth(name)
            }
            maxW = Swift.max(maxW, x - left)
        }
        let h = Double(rows.count) * 16 + 2
        s += "<rect class=\"legend-box\" x=\"\(left - 2)\" y=\"\(y0)\" width=\"\(f2(maxW + 4))\" height=\"\(f2(h))\" fill=\"none\"/>\n</g>\n"
        return (s, y0 + h + 8)
    }

    static func frame(title: String, xLabel: String, yLabel: String, body: String, layout: Layout = Layout(top: SVGPlot.top)) -> String {
        let mid = layout.top + layout.ph / 2
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14" font-weight="bold">\(esc(title))</text>
        <text x="\(left + (width - left - right) / 2)" y="\(height - 8)" text-anchor="middle">\(esc(xLabel))</text>
        <text x="14" y="\(mid)" text-anchor="middle" transform="rotate(-90 14 \(mid))">\(esc(yLabel))</text>
        \(body)
        </svg>
        """
    }

    /// One numeric axis: the range it shows, its ticks and whether it is logarithmic.
    struct Axis {
        var lo: Double, hi: Double, ticks: [Double], log: Bool
        /// Tick labels: one number format for a linear axis, each value for people on a log axis.
        var labels: [String] { log ? ticks.map { SVGPlot.trimmed(SVGPlot.number($0)) } : SVGPlot.tickLabels(ticks) }
        func unit(_ v: Double) -> Double {
            log ? (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo)) : (v - lo) / (hi - lo)
        }
        static func make(_ lo: Double, _ hi: Double, log: Bool, ticks fixed: [Double]? = nil) -> Axis {
            if let fixed, fixed.count >= 3 {
                let a = Swift.min(lo, fixed.min()!), b = Swift.max(hi, fixed.max()!)
                if log { return Axis(lo: a / 1.15, hi: b * 1.15, ticks: fixed, log: true) }
                let n = niceTicks(a, b); return Axis(lo: n.lo, hi: n.hi, ticks: fixed, log: false)
            }
            if log { let l = logTicks(lo, hi); return Axis(lo: l.lo, hi: l.hi, ticks: l.ticks, log: true) }
            let n = niceTicks(lo, hi); return Axis(lo: n.lo, hi: n.hi, ticks: n.ticks, log: false)
        }
    }

    /// Axes with ticks for the data range; returns the SVG and the mapping from data to pixels.
    static func axes(x: Axis, y: Axis, layout l: Layout) -> (String, (Double) -> Double, (Double) -> Double) {
        let px: (Double) -> Double = { l.x0 + x.unit($0) * l.pw }
        let py: (Double) -> Double = { l.y1 - y.unit($0) * l.ph }
        var s = "<rect class=\"plot-area\" x=\"\(l.x0)\" y=\"\(l.top)\" width=\"\(l.pw)\" height=\"\(l.ph)\" fill=\"none\" stroke=\"#888\"/>\n"
        s += "<g class=\"axis x numeric\">\n"
        for (t, text) in zip(x.ticks, x.labels) {
            let xp = f2(px(t))
            s += "<line x1=\"\(xp)\" y1=\"\(l.y1)\" x2=\"\(xp)\" y2=\"\(l.y1 + 4)\" stroke=\"#444\"/><text class=\"tick\" x=\"\(xp)\" y=\"\(l.y1 + 17)\" text-anchor=\"middle\">\(text)</text>\n"
        }
        s += "</g>\n<g class=\"axis y numeric\">\n"
        for (t, text) in zip(y.ticks, y.labels) {
            let yp = f2(py(t))
            s += "<line x1=\"\(l.x0 - 4)\" y1=\"\(yp)\" x2=\"\(l.x1)\" y2=\"\(yp)\" stroke=\"#eee\"/><text class=\"tick\" x=\"\(l.x0 - 7)\" y=\"\(f2(py(t) + 4))\" text-anchor=\"end\">\(text)</text>\n"
        }
        s += "</g>\n"
        return (s, px, py)
    }

    static func threshold(_ y: Double, _ text: String, layout l: Layout) -> String {
        "<line class=\"threshold\" x1=\"\(l.x0)\" y1=\"\(f2(y))\" x2=\"\(l.x1)\" y2=\"\(f2(y))\" stroke=\"\(thresholdColor)\" stroke-dasharray=\"6 4\"/><text class=\"threshold-label\" x=\"\(l.x1 - 4)\" y=\"\(f2(y - 4))\" text-anchor=\"end\" fill=\"\(thresholdColor)\">\(esc(text))</text>\n"
    }

    static func noData(_ title: String, _ xLabel: String, _ yLabel: String) -> String {
        frame(title: title, xLabel: xLabel, yLabel: yLabel, body: "<text x=\"320\" y=\"180\" text-anchor=\"middle\">no finite data</text>")
    }

    // MARK: Charts

    /// A line chart of several series; `hLines` draws labelled horizontal reference lines. `xDomain` / `yDomain`
    /// fix the range an axis must show (e.g. every sampler step 0…T, or similarities 0…1) whatever the data cover;
    /// `xTicks` fixes the x ticks (e.g. the rungs of a ladder).
    public static func line(title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false, logY: Bool = false,
                            hLines: [(Double, String)] = [], markers: Bool = true, xDomain: (Double, Double)? = nil,
                            yDomain: (Double, Double)? = nil, xTicks: [Double]? = nil) -> String {
        func ok(_ p: (Double, Double)) -> Bool { p.0.isFinite && p.1.isFinite && (!logX || p.0 > 0) && (!logY || p.1 > 0) }
        let pts = series.flatMap { $0.points }.filter(ok)
        guard !pts.isEmpty else { return noData(title, xLabel, yLabel) }
        var xs = pts.map { $0.0 }, ys = pts.map { $0.1 } + hLines.map { $0.0 }.filter { $0.isFinite && (!logY || $0 > 0) }
        if let d = xDomain { xs += [d.0, d.1] }
        if let d = yDomain { ys += [d.0, d.1] }
        let colors = series.enumerated().map { $0.element.color ?? palette[$0.offset % palette.count] }
        let (leg, plotTop) = series.count > 1 ? legend(zip(series, colors).map { ($0.name, $1) }, dashed: series.map { $0.dashed }) : ("", top)
        let l = Layout(top: plotTop)
        let (ax, px, py) = axes(x: Axis.make(xs.min()!, xs.max()!, log: logX, ticks: xTicks), y: Axis.make(ys.min()!, ys.max()!, log: logY), layout: l)
        var body = ax
        for (value, text) in hLines where value.isFinite && (!logY || value > 0) { body += threshold(py(value), text, layout: l) }
        for (s, color) in zip(series, colors) {
            let good = s.points.filter(ok)
            let path = good.map { "\(f2(px($0.0))),\(f2(py($0.1)))" }.joined(separator: " ")
            body += "<polyline class=\"series\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(path)\"/>\n"
            if markers && good.count <= 80 {
                for p in good { body += "<circle class=\"point\" cx=\"\(f2(px(p.0)))\" cy=\"\(f2(py(p.1)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            }
        }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, body: body + leg, layout: l)
    }

    /// A scatter plot; points carry a group index that picks the colour; `groupNames` label them.
    public static func scatter(title: String, xLabel: String, yLabel: String, points: [(Double, Double, Int)], groupNames: [String],
                               radius: Double = 2.5, opacity: Double = 0.6) -> String {
        let good = points.filter { $0.0.isFinite && $0.1.isFinite }
        guard !good.isEmpty else { return noData(title, xLabel, yLabel) }
        let (leg, plotTop) = legend(groupNames.enumerated().map { ($0.element, palette[$0.offset % palette.count]) })
        let l = Layout(top: plotTop)
        let (ax, px, py) = axes(x: Axis.make(good.map { $0.0 }.min()!, good.map { $0.0 }.max()!, log: false),
                                y: Axis.make(good.map { $0.1 }.min()!, good.map { $0.1 }.max()!, log: false), layout: l)
        var body = ax
        for p in good {
            body += "<circle class=\"point\" cx=\"\(String(format: "%.1f", px(p.0)))\" cy=\"\(String(format: "%.1f", py(p.1)))\" r=\"\(radius)\" fill=\"\(palette[p.2 % palette.count])\" fill-opacity=\"\(opacity)\"/>\n"
        }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, body: body + leg, layout: l)
    }

    /// Vertical bars with value labels; `reference` draws a labelled threshold line. `yDomain` fixes the range the
    /// value axis must show (e.g. 0…1 for similarities).
    public static func bars(title: String, yLabel: String, labels: [String], values: [Double], colors: [String]? = nil,
                            reference: [(Double, String)] = [], yDomain: (Double, Double)? = nil) -> String {
        let finite = values.filter { $0.isFinite }
        var lo = Swift.min(0, finite.min() ?? 0), hi = Swift.max(finite.max() ?? 1, reference.map { $0.0 }.max() ?? 0, lo + 1e-12)
        if let d = yDomain { lo = Swift.min(lo, d.0); hi = Swift.max(hi, d.1) }
        let l = Layout(top: top)
        let y = Axis.make(lo, hi, log: false)
        let py: (Double) -> Double = { l.y1 - y.unit($0) * l.ph }
        var body = "<rect class=\"plot-area\" x=\"\(l.x0)\" y=\"\(l.top)\" width=\"\(l.pw)\" height=\"\(l.ph)\" fill=\"none\" stroke=\"#888\"/>\n<g class=\"axis y numeric\">\n"
        for (t, text) in zip(y.ticks, y.labels) {
            body += "<line x1=\"\(l.x0 - 4)\" y1=\"\(f2(py(t)))\" x2=\"\(l.x1)\" y2=\"\(f2(py(t)))\" stroke=\"#eee\"/><text class=\"tick\" x=\"\(l.x0 - 7)\" y=\"\(f2(py(t) + 4))\" text-anchor=\"end\">\(text)</text>\n"
        }
        body += "</g>\n<g class=\"axis x categorical\">\n"
        let slot = l.pw / Double(Swift.max(1, labels.count))
        var marks = ""
        for (i, (name, v)) in zip(labels, values).enumerated() {
            let x = l.x0 + slot * Double(i) + slot * 0.15, w = slot * 0.7
            let color = colors?[i % (colors?.count ?? 1)] ?? palette[i % palette.count]
            if v.isFinite {
                let y0 = py(0), y1 = py(v)
                marks += "<rect class=\"point\" x=\"\(f2(x))\" y=\"\(f2(Swift.min(y0, y1)))\" width=\"\(f2(w))\" height=\"\(f2(Swift.abs(y1 - y0)))\" fill=\"\(color)\"/>\n"
                marks += "<text class=\"value-label\" x=\"\(f2(x + w / 2))\" y=\"\(f2(Swift.min(y0, y1) - 4))\" text-anchor=\"middle\">\(number(v))</text>\n"
            } else {
                marks += "<text class=\"value-label\" x=\"\(f2(x + w / 2))\" y=\"\(f2(py(0) - 4))\" text-anchor=\"middle\">—</text>\n"
            }
            body += "<text x=\"\(f2(x + w / 2))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(esc(name))</text>\n"
        }
        body += "</g>\n" + marks
        for (value, text) in reference { body += threshold(py(value), text, layout: l) }
        return frame(title: title, xLabel: "", yLabel: yLabel, body: body, layout: l)
    }

    /// A horizontal strip of coloured cells along a time axis in sampler steps, one cell per recorded step,
    /// labelled by regime (R1/R2/R3 …). Cell i covers the sampler steps from `steps[i]` up to the next recorded step
    /// (the state recorded at a step stands for the steps until the next record); `steps` defaults to 0, 1, 2, ….
    public static func strip(title: String, labels: [String], steps: [Int]? = nil, xLabel: String = "sampler step") -> String {
        let h = 140.0
        let pw = width - left - right
        let at = (steps?.count == labels.count ? steps! : Array(labels.indices)).map(Double.init)
        let first = at.first ?? 0, last = Swift.max(at.last ?? 1, first + 1)
        let axis = Axis.make(first, last, log: false)
        let px: (Double) -> Double = { left + axis.unit($0) * pw }
        var body = ""
        for (i, l) in labels.enumerated() {
            let x0 = px(at[i]), x1 = i + 1 < at.count ? px(at[i + 1]) : Swift.max(px(at[i]) + 2, px(at[i] + 1))
            body += "<rect x=\"\(f2(x0))\" y=\"40\" width=\"\(f2(x1 - x0 + 0.5))\" height=\"36\" fill=\"\(regimeColors[l] ?? "#999")\"><title>sampler step \(Int(at[i])): \(esc(l))</title></rect>\n"
        }
        body += "<rect class=\"plot-area\" x=\"\(left)\" y=\"40\" width=\"\(pw)\" height=\"36\" fill=\"none\" stroke=\"#888\"/>\n<g class=\"axis x numeric\">\n"
        for (t, text) in zip(axis.ticks, tickLabels(axis.ticks)) {
            let x = f2(px(t))
            body += "<line x1=\"\(x)\" y1=\"76\" x2=\"\(x)\" y2=\"80\" stroke=\"#444\"/><text class=\"tick\" x=\"\(x)\" y=\"92\" text-anchor=\"middle\">\(text)</text>\n"
        }
        body += "</g>\n"
        let present = ["R1", "R2", "R3"].filter { labels.contains($0) }
        if !present.isEmpty {
            body += "<g class=\"legend\">"
            for (i, r) in present.enumerated() {
                body += "<rect x=\"\(left + Double(i) * 70)\" y=\"117\" width=\"10\" height=\"10\" fill=\"\(regimeColors[r]!)\"/><text x=\"\(left + 14 + Double(i) * 70)\" y=\"126\">\(r)</text>\n"
            }
            body += "<rect class=\"legend-box\" x=\"\(left - 2)\" y=\"115\" width=\"\(Double(present.count) * 70)\" height=\"14\" fill=\"none\"/></g>\n"
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(h))" width="\(Int(width))" height="\(Int(h))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="14" font-weight="bold">\(esc(title))</text>
        <text x="\(left + pw / 2)" y="108" text-anchor="middle">\(esc(xLabel))</text>
        \(body)
        </svg>
        """
    }
}

extension Double {
    /// −0 as 0 (so a tick never reads "-0.0").
    fileprivate func nextToZero0() -> Double { self == 0 ? 0 : self }
}
