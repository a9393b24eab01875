import Foundation

/// A small SVG chart writer for reports: line charts (optionally log-scaled, with horizontal reference lines),
/// scatter plots by group, bar charts and regime strips. Output is self-contained SVG text.
public enum SVGPlot {
    /// Colours for series and groups (colour-blind-safe Okabe–Ito palette).
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
    /// Colours of the regimes.
    public static let regimeColors = ["R1": "#009E73", "R2": "#E69F00", "R3": "#D55E00",
                                      "S1": "#009E73", "S2": "#E69F00", "S3": "#D55E00",
                                      "A1": "#009E73", "A2": "#E69F00", "A3": "#D55E00"]

    public struct Series: Sendable {
        public var name: String
        public var points: [(Double, Double)]
        public var dashed: Bool
        public init(_ name: String, _ points: [(Double, Double)], dashed: Bool = false) { self.name = name; self.points = points; self.dashed = dashed }
    }

    static let width = 640.0, height = 360.0
    static let left = 78.0, right = 20.0, top = 36.0, bottom = 48.0

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = Swift.abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.1e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        return String(format: "%.3g", v)
    }

    /// Nice tick values covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = Foundation.ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    /// Powers of ten (whole decades, every few when the range is wide) inside [10^lo, 10^hi]; with less than one
    /// decade, the 1-2-5 values inside it.
    static func decades(_ lo: Double, _ hi: Double) -> [Double] {
        let a = Int(Foundation.ceil(lo - 1e-9)), b = Int(Foundation.floor(hi + 1e-9))
        if b < a {
            let base = Foundation.floor(lo)
            return [1.0, 2, 5].map { Foundation.pow(10, base) * $0 }.filter { Foundation.log10($0) >= lo && Foundation.log10($0) <= hi }
        }
        let step = Swift.max(1, (b - a + 5) / 6)
        return Swift.stride(from: a, through: b, by: step).map { Foundation.pow(10, Double($0)) }
    }

    static func frame(title: String, xLabel: String, yLabel: String, body: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14" font-weight="bold">\(esc(title))</text>
        <text x="\(left + (width - left - right) / 2)" y="\(height - 8)" text-anchor="middle">\(esc(xLabel))</text>
        <text x="14" y="\(top + (height - top - bottom) / 2)" text-anchor="middle" transform="rotate(-90 14 \(top + (height - top - bottom) / 2))">\(esc(yLabel))</text>
        \(body)
        </svg>
        """
    }

    /// Axes with ticks for the data range; returns the SVG and the mapping from data to pixels.
    static func axes(xRange: (Double, Double), yRange: (Double, Double), logX: Bool, logY: Bool)
        -> (String, (Double) -> Double, (Double) -> Double) {
        let fx: (Double) -> Double = logX ? { Foundation.log10($0) } : { $0 }
        let fy: (Double) -> Double = logY ? { Foundation.log10($0) } : { $0 }
        var (x0, x1) = (fx(xRange.0), fx(xRange.1)), (y0, y1) = (fy(yRange.0), fy(yRange.1))
        if x1 <= x0 { x0 -= 0.5; x1 += 0.5 }
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        let padY = (y1 - y0) * 0.05
        y0 -= padY; y1 += padY
        let pw = width - left - right, ph = height - top - bottom
        let px: (Double) -> Double = { left + (fx($0) - x0) / (x1 - x0) * pw }
        let py: (Double) -> Double = { top + ph - (fy($0) - y0) / (y1 - y0) * ph }
        var s = "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#888\"/>\n"
        let xt = logX ? decades(x0, x1) : ticks(x0, x1)
        for t in xt where fx(t) >= x0 - 1e-9 && fx(t) <= x1 + 1e-9 {
            let x = px(t)
            s += "<line x1=\"\(x)\" y1=\"\(top + ph)\" x2=\"\(x)\" y2=\"\(top + ph + 4)\" stroke=\"#444\"/><text x=\"\(x)\" y=\"\(top + ph + 17)\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        let yt = logY ? decades(y0, y1) : ticks(y0, y1)
        for t in yt where fy(t) >= y0 - 1e-9 && fy(t) <= y1 + 1e-9 {
            let y = py(t)
            s += "<line x1=\"\(left - 4)\" y1=\"\(y)\" x2=\"\(left + pw)\" y2=\"\(y)\" stroke=\"#eee\"/><text x=\"\(left - 7)\" y=\"\(y + 4)\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        return (s, px, py)
    }

    static func legend(_ names: [(String, String)]) -> String {
        var s = ""
        for (i, (name, color)) in names.enumerated() {
            let x = left + 10 + Double(i % 4) * 140, y = top + 14 + Double(i / 4) * 16
            s += "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(x + 14)\" y=\"\(y)\">\(esc(name))</text>\n"
        }
        return s
    }

    /// A line chart of several series; `hLines` draws labelled horizontal reference lines.
    public static func line(title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false, logY: Bool = false,
                            hLines: [(Double, String)] = [], markers: Bool = true) -> String {
        let pts = series.flatMap { $0.points }.filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) && (!logY || $0.1 > 0) }
        let ys = pts.map { $0.1 } + hLines.map { $0.0 }.filter { !logY || $0 > 0 }
        guard !pts.isEmpty else { return frame(title: title, xLabel: xLabel, yLabel: yLabel, body: "<text x=\"320\" y=\"180\" text-anchor=\"middle\">no finite data</text>") }
        let (ax, px, py) = axes(xRange: (pts.map { $0.0 }.min()!, pts.map { $0.0 }.max()!), yRange: (ys.min()!, ys.max()!), logX: logX, logY: logY)
        var body = ax
        for (value, text) in hLines where value.isFinite && (!logY || value > 0) {
            let y = py(value)
            body += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" stroke=\"#D55E00\" stroke-dasharray=\"6 4\"/><text x=\"\(width - right - 4)\" y=\"\(y - 4)\" text-anchor=\"end\" fill=\"#D55E00\">\(esc(text))</text>\n"
        }
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            let ok = s.points.filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) && (!logY || $0.1 > 0) }
            let path = ok.map { "\(String(format: "%.2f", px($0.0))),\(String(format: "%.2f", py($0.1)))" }.joined(separator: " ")
            body += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(path)\"/>\n"
            if markers && ok.count <= 80 {
                for p in ok { body += "<circle cx=\"\(String(format: "%.2f", px(p.0)))\" cy=\"\(String(format: "%.2f", py(p.1)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            }
        }
        if series.count > 1 { body += legend(series.enumerated().map { ($0.element.name, palette[$0.offset % palette.count]) }) }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// A scatter plot; points carry a group index that picks the colour; `groupNames` label them.
    public static func scatter(title: String, xLabel: String, yLabel: String, points: [(Double, Double, Int)], groupNames: [String],
                               radius: Double = 2.5, opacity: Double = 0.6) -> String {
        let ok = points.filter { $0.0.isFinite && $0.1.isFinite }
        guard !ok.isEmpty else { return frame(title: title, xLabel: xLabel, yLabel: yLabel, body: "<text x=\"320\" y=\"180\" text-anchor=\"middle\">no finite data</text>") }
        let (ax, px, py) = axes(xRange: (ok.map { $0.0 }.min()!, ok.map { $0.0 }.max()!), yRange: (ok.map { $0.1 }.min()!, ok.map { $0.1 }.max()!), logX: false, logY: false)
        var body = ax
        for p in ok {
            body += "<circle cx=\"\(String(format: "%.1f", px(p.0)))\" cy=\"\(String(format: "%.1f", py(p.1)))\" r=\"\(radius)\" fill=\"\(palette[p.2 % palette.count])\" fill-opacity=\"\(opacity)\"/>\n"
        }
        body += legend(groupNames.enumerated().map { ($0.element, palette[$0.offset % palette.count]) })
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// Vertical bars with value labels; `reference` draws a labelled threshold line.
    public static func bars(title: String, yLabel: String, labels: [String], values: [Double], colors: [String]? = nil,
                            reference: [(Double, String)] = []) -> String {
        let finite = values.filter { $0.isFinite }
        let lo = Swift.min(0, finite.min() ?? 0), hi = Swift.max(finite.max() ?? 1, reference.map { $0.0 }.max() ?? 0, lo + 1e-12)
        let (ax, _, py) = axes(xRange: (0, 1), yRange: (lo, hi), logX: false, logY: false)
        var body = ax.components(separatedBy: "\n").filter { !$0.contains("y2=\"\(height - bottom + 4)\"") }.joined(separator: "\n")
        let pw = width - left - right
        let slot = pw / Double(Swift.max(1, labels.count))
        for (i, (name, v)) in zip(labels, values).enumerated() {
            let x = left + slot * Double(i) + slot * 0.15, w = slot * 0.7
            let color = colors?[i % (colors?.count ?? 1)] ?? palette[i % palette.count]
            if v.isFinite {
                let y0 = py(0), y1 = py(v)
                body += "<rect x=\"\(x)\" y=\"\(Swift.min(y0, y1))\" width=\"\(w)\" height=\"\(Swift.abs(y1 - y0))\" fill=\"\(color)\"/>\n"
                body += "<text x=\"\(x + w / 2)\" y=\"\(Swift.min(y0, y1) - 4)\" text-anchor=\"middle\">\(label(v))</text>\n"
            } else {
                body += "<text x=\"\(x + w / 2)\" y=\"\(py(0) - 4)\" text-anchor=\"middle\">n/a</text>\n"
            }
            body += "<text x=\"\(x + w / 2)\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(esc(name))</text>\n"
        }
        for (value, text) in reference {
            let y = py(value)
            body += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" stroke=\"#D55E00\" stroke-dasharray=\"6 4\"/><text x=\"\(width - right - 4)\" y=\"\(y - 4)\" text-anchor=\"end\" fill=\"#D55E00\">\(esc(text))</text>\n"
        }
        return frame(title: title, xLabel: "", yLabel: yLabel, body: body)
    }

    /// A horizontal strip of coloured cells, one per step, labelled by regime (R1/R2/R3 …).
    public static func strip(title: String, labels: [String], xLabel: String = "step") -> String {
        let h = 110.0
        let pw = width - left - right
        let cell = pw / Double(Swift.max(1, labels.count))
        var body = ""
        for (i, l) in labels.enumerated() {
            body += "<rect x=\"\(left + cell * Double(i))\" y=\"40\" width=\"\(cell + 0.5)\" height=\"36\" fill=\"\(regimeColors[l] ?? "#999")\"><title>step \(i): \(esc(l))</title></rect>\n"
        }
        body += "<text x=\"\(left)\" y=\"92\">0</text><text x=\"\(width - right)\" y=\"92\" text-anchor=\"end\">\(labels.count - 1)</text>\n"
        let present = ["R1", "R2", "R3"].filter { labels.contains($0) }
        for (i, r) in present.enumerated() {
            body += "<rect x=\"\(left + Double(i) * 70)\" y=\"97\" width=\"10\" height=\"10\" fill=\"\(regimeColors[r]!)\"/><text x=\"\(left + 14 + Double(i) * 70)\" y=\"106\">\(r)</text>\n"
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(h))" width="\(Int(width))" height="\(Int(h))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="14" font-weight="bold">\(esc(title))</text>
        <text x="\(width / 2)" y="92" text-anchor="middle">\(esc(xLabel))</text>
        \(body)
        </svg>
        """
    }
}
