// Report figures a researcher can trust: nice ticks on every axis (Heckbert 1990), numbers for people, distinct
// colour-blind-safe regime colours (Okabe–Ito), legends outside the data, a self-contained interactive core viewer,
// one validation row per test and an index of reports.

import Foundation
import Linear
@testable import Substrate
import Testing
import TestSupport

@Suite struct ReportFigureTests {
    // MARK: Ticks

    /// Checks the loose-labelling contract: ≥ 3 ticks, equally spaced by 1, 2 or 5 × 10ᵏ, covering the data, labels distinct.
    func checkNice(_ lo: Double, _ hi: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let t = SVGPlot.niceTicks(lo, hi)
        #expect(t.ticks.count >= 3, "[\(lo), \(hi)]: \(t.ticks)", sourceLocation: sourceLocation)
        #expect(t.lo <= Swift.min(lo, hi) && t.hi >= Swift.max(lo, hi), "[\(lo), \(hi)] not covered by [\(t.lo), \(t.hi)]", sourceLocation: sourceLocation)
        #expect(t.ticks.first == t.lo && t.ticks.last == t.hi, "the axis ends on ticks", sourceLocation: sourceLocation)
        let steps = zip(t.ticks, t.ticks.dropFirst()).map { $1 - $0 }
        let d = steps[0]
        #expect(steps.allSatisfy { Swift.abs($0 - d) <= d * 1e-9 }, "unequal steps \(steps)", sourceLocation: sourceLocation)
        let mantissa = d / Foundation.pow(10, Foundation.floor(Foundation.log10(d)))
        #expect([1.0, 2, 5, 10].contains { Swift.abs(mantissa - $0) < 1e-9 }, "step \(d) is not 1, 2 or 5 × 10ᵏ", sourceLocation: sourceLocation)
        let labels = SVGPlot.tickLabels(t.ticks)
        #expect(Set(labels).count == labels.count, "labels repeat: \(labels)", sourceLocation: sourceLocation)
    }

    @Test func niceTicksGiveAtLeastThreeLabelledTicksForAnyRange() {
        checkNice(1.4, 1.5)           // the participation ratio that looked like a steep rise
        checkNice(0, 1e-16)           // a round-trip error
        checkNice(10, 10)             // a single point
        checkNice(0, 0)
        checkNice(-3.2, -1.1)         // negative
        checkNice(-0.004, 0.002)      // across zero
        checkNice(0, 1_000_000)
        checkNice(0.25, 0.26)
        checkNice(0, 1000)            // sampler steps of DDPM
    }

    @Test func niceTicksMatchHeckbertsExamples() {
        // [1.4, 1.5]: range 0.1, step 0.02 → 1.40 … 1.50; labels keep two decimals.
        let a = SVGPlot.niceTicks(1.4, 1.5)
        #expect(a.ticks.count == 6)
        #expect(SVGPlot.tickLabels(a.ticks) == ["1.40", "1.42", "1.44", "1.46", "1.48", "1.50"])
        // Sampler steps 0 … 1000 → 0, 200, …, 1000 (not recorded indices 0 … 40).
        #expect(SVGPlot.tickLabels(SVGPlot.niceTicks(0, 1000).ticks) == ["0", "200", "400", "600", "800", "1000"])
        // A single point at 10 sits on a nice interval around it, never on a 9.6–10.4 axis.
        let one = SVGPlot.niceTicks(10, 10)
        #expect(one.ticks.contains(10) && one.ticks.count >= 3 && one.hi - one.lo >= 2)
    }

    @Test func logTicksGiveAtLeastThreeTicksInsideTheRange() {
        for (lo, hi) in [(1.4, 2.0), (64.0, 512.0), (1e-3, 1e3), (0.9, 0.95), (5.0, 5.0), (2.0, 1024.0)] {
            let t = SVGPlot.logTicks(lo, hi)
            #expect(t.ticks.count >= 3, "[\(lo), \(hi)]: \(t.ticks)")
            #expect(t.ticks.allSatisfy { $0 > 0 && $0 >= t.lo * (1 - 1e-9) && $0 <= t.hi * (1 + 1e-9) }, "[\(lo), \(hi)]: \(t)")
            #expect(t.lo <= lo && t.hi >= hi)
        }
        #expect(SVGPlot.logTicks(1e-3, 1e3).ticks.count >= 4)
    }

    /// The labelled ticks of each numeric axis of an SVG chart.
    static func axisTicks(_ svg: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        let groups = svg.components(separatedBy: "<g class=\"axis ").dropFirst()
        for g in groups {
            let name = String(g.prefix(while: { $0 != " " && $0 != "\"" }))
            guard g.hasPrefix(name + " numeric") else { continue }
            let body = g.components(separatedBy: "</g>")[0]
            out[name, default: []] += matches(#"<text class="tick"[^>]*>([^<]*)</text>"#, in: body).map { $0[0] }
        }
        return out
    }

    static func matches(_ pattern: String, in s: String) -> [[String]] {
        let re = try! NSRegularExpression(pattern: pattern)
        return re.matches(in: s, range: NSRange(s.startIndex..., in: s)).map { m in
            (1..<m.numberOfRanges).map { String(s[Range(m.range(at: $0), in: s)!]) }
        }
    }

    @Test func everyChartHasThreeTicksPerNumericAxis() throws {
        let charts = [
            SVGPlot.line(title: "PR", xLabel: "d", yLabel: "PR", series: [.init("k*", [(64, 2), (128, 2), (256, 2), (512, 2)]),
                                                                       .init("PR", [(64, 1.4), (128, 1.45), (256, 1.48), (512, 1.5)])],
                         logX: true, logY: true, xTicks: [64, 128, 256, 512]),
            SVGPlot.line(title: "one point", xLabel: "t", yLabel: "s", series: [.init("s", [(10, 0.97)])], xDomain: (0, 20), yDomain: (0, 1)),
            SVGPlot.line(title: "one point, no domain", xLabel: "t", yLabel: "s", series: [.init("s", [(10, 0.97)])]),
            SVGPlot.line(title: "tiny", xLabel: "i", yLabel: "e", series: [.init("e", [(1, 0), (2, 1e-16), (3, 5e-17)])]),
            SVGPlot.scatter(title: "s", xLabel: "z1", yLabel: "z2", points: [(-3, -1, 0), (-1, -2, 1)], groupNames: ["a", "b"]),
            SVGPlot.bars(title: "b", yLabel: "sim", labels: ["x", "y"], values: [0.98, 0.99], yDomain: (0, 1)),
            SVGPlot.strip(title: "ddpm", labels: Array(repeating: "R3", count: 10) + Array(repeating: "R1", count: 11), steps: Array(Swift.stride(from: 0, through: 1000, by: 50))),
        ]
        for svg in charts {
            let axes = Self.axisTicks(svg)
            #expect(!axes.isEmpty, "no numeric axis in \(svg.prefix(300))")
            for (name, ticks) in axes { #expect(Set(ticks).count >= 3, "\(name) axis: \(ticks)") }
        }
        // The DDPM strip is in sampler steps: its axis reaches 1000, not the 20 recorded indices.
        let strip = Self.axisTicks(charts.last!)["x"] ?? []
        #expect(strip.last == "1000" && strip.first == "0", "\(strip)")
        // The single point with a fixed domain shows the whole 0…20 range.
        let one = Self.axisTicks(charts[1])["x"] ?? []
        #expect(one.first == "0" && one.last == "20", "\(one)")
    }

    // MARK: Numbers for people

    @Test func numbersHaveThreeSignificantDigitsAndADashForMissing() {
        #expect(SVGPlot.number(8.354408406461938e-16) == "8.35e-16")
        #expect(SVGPlot.number(nil) == "—")
        #expect(SVGPlot.number(.nan) == "—")
        #expect(SVGPlot.number(.infinity) == "—")
        #expect(SVGPlot.number(0.123456) == "0.123")
        #expect(SVGPlot.number(12.345) == "12.3")
        #expect(SVGPlot.number(-0.5) == "-0.500")
        #expect(SVGPlot.number(1234.56) == "1235")
        #expect(SVGPlot.number(2) == "2")
        #expect(SVGPlot.number(0) == "0")
        #expect(SVGPlot.number(123456789) == "1.23e+08")
        // Never rounded up to the next power of ten: the digits that tell 0.9999 from 1 stay.
        #expect(SVGPlot.number(0.9999) == "0.9999" && SVGPlot.number(0.99951) == "0.9995" && SVGPlot.number(99.96) == "99.96")
        #expect(SVGPlot.number(0.99999999) == "1.00000" && SVGPlot.number(0.9994) == "0.999")
        #expect(HTMLReport.cell(.string("R2")) == "R2")
        #expect(HTMLReport.cell(.null) == "—")
        #expect(HTMLReport.cell(.number(8.354408406461938e-16)) == "8.35e-16")
        #expect(HTMLReport.cell(.bool(true)) == "yes")
        #expect(HTMLReport.cell(.int(7)) == "7")
    }

    @Test func validationTableShowsTheDriftTestOnceWithoutRawJSON() {
        let checks = [
            ValidationCheck(layer: "V2", name: "regime", status: .pass, value: .string("R2"), message: "ok"),
            ValidationCheck(layer: "V2", name: "signal_energy", status: .pass, value: .num(0.8354408406461938), message: "ρ"),
            ValidationCheck(layer: "V4", name: "no_drift", status: .pass, value: .num(0.42), threshold: .num(0.05), message: "no drift"),
            ValidationCheck(layer: "V4", name: "alignment", status: .pass, value: .string("A1"), threshold: .string("A2"), message: "ok"),
        ]
        let (header, rows) = AnalysisReports.validationTable(checks)
        #expect(header == ["layer", "check", "status", "value", "threshold", "message"])
        #expect(rows.count == 4)
        #expect(rows.filter { $0[1].contains("drift") }.count == 1)
        #expect(rows.contains { $0[0] == "V4" && $0[1] == "no_drift" && $0[3] == "0.420" && $0[4] == "0.0500" })
        #expect(rows[0][3] == "R2" && rows[0][4] == "—")
        #expect(rows[1][3] == "0.835")
        for r in rows { for c in r { #expect(!c.contains("\"") && c != "null", "\(r)") } }
    }

    // MARK: Colours

    /// sRGB hex → CIELAB (D65), optionally after simulating a colour-vision deficiency (Machado, Oliveira and
    /// Fernandes 2009, severity 1, applied in linear RGB).
    static func lab(_ hex: String, simulate m: [[Double]]? = nil) -> [Double] {
        let v = Int(hex.dropFirst(), radix: 16)!
        var rgb = [Double((v >> 16) & 255), Double((v >> 8) & 255), Double(v & 255)].map { c -> Double in
            let s = c / 255; return s <= 0.04045 ? s / 12.92 : Foundation.pow((s + 0.055) / 1.055, 2.4)
        }
        if let m { rgb = m.map { row in Swift.min(1, Swift.max(0, zip(row, rgb).map(*).reduce(0, +))) } }
        let x = 0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2], y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
        let z = 0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]
        func f(_ t: Double) -> Double { t > 0.008856 ? Foundation.cbrt(t) : 7.787 * t + 16.0 / 116 }
        let fx = f(x / 0.95047), fy = f(y), fz = f(z / 1.08883)
        return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)]
    }

    static let deuteranopia = [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    static let protanopia = [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]

    @Test func regimeColoursAreDistinctForEveryoneIncludingColourBlindReaders() {
        let colors = ["R1", "R2", "R3"].map { SVGPlot.regimeColors[$0]! }
        #expect(Set(colors).count == 3)
        for vision in [nil, Self.deuteranopia, Self.protanopia] {
            let labs = colors.map { Self.lab($0, simulate: vision) }
            for i in 0..<3 { for j in (i + 1)..<3 {
                let de = Foundation.sqrt(zip(labs[i], labs[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +))
                #expect(de >= 20, "\(colors[i]) vs \(colors[j]) (vision \(vision == nil ? "normal" : "simulated")): ΔE = \(de)")
            } }
        }
        // The series palette is Okabe–Ito: eight distinct colours.
        #expect(Set(SVGPlot.palette).count == 8)
        // The old R2/R3 pair (two oranges) would fail the same test.
        let old = [Self.lab("#E69F00", simulate: Self.deuteranopia), Self.lab("#D55E00", simulate: Self.deuteranopia)]
        #expect(Foundation.sqrt(zip(old[0], old[1]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)) < 20)
    }

    // MARK: Legends

    @Test func legendsNeverCoverDataPoints() {
        // Points everywhere, including the top-left corner where legends used to sit.
        var pts: [(Double, Double, Int)] = []
        for i in 0..<30 { for j in 0..<30 { pts.append((Double(i), Double(j), (i + j) % 3)) } }
        let svgs = [
            SVGPlot.scatter(title: "core", xLabel: "z1", yLabel: "z2", points: pts, groupNames: ["real (held-out)", "fm-rk4-20", "ddpm-1000"]),
            SVGPlot.line(title: "paths", xLabel: "z1", yLabel: "z2", series: (0..<8).map { s in .init("sample \(s)", (0..<20).map { (Double($0), Double(s * $0 % 17)) }) },
                         markers: true),
        ]
        for svg in svgs {
            let boxes = Self.matches(#"<rect class="legend-box" x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)""#, in: svg)
                .map { $0.map { Double($0)! } }
            #expect(boxes.count == 1)
            var marks = Self.matches(#"<circle class="point" cx="([^"]+)" cy="([^"]+)" r="([^"]+)""#, in: svg).map { $0.map { Double($0)! } }
            for p in Self.matches(#"<polyline class="series"[^>]* points="([^"]+)""#, in: svg) {
                marks += p[0].split(separator: " ").map { xy in xy.split(separator: ",").map { Double($0)! } + [1] }
            }
            #expect(marks.count >= 100)
            for b in boxes {
                let hits = marks.filter { $0[0] >= b[0] - $0[2] && $0[0] <= b[0] + b[2] + $0[2] && $0[1] >= b[1] - $0[2] && $0[1] <= b[1] + b[3] + $0[2] }
                #expect(hits.isEmpty, "legend box \(b) covers \(hits.count) points, e.g. \(hits.first ?? [])")
            }
        }
    }

    // MARK: Viewer and pages

    @Test func viewerPageIsSelfContainedAndCarriesItsData() throws {
        let real = try Tensor<Double>((0..<90).map { Double($0) / 10 }, shape: [10, 9])
        let frames = try (0..<3).map { f in try Tensor<Double>((0..<45).map { Double($0 * (f + 1)) }, shape: [5, 9]) }
        let viewer = try CoreViewer(title: "Core </script> test", axes: CoreViewer.axisNames(9),
                                    sets: [.init(name: "real", color: SVGPlot.palette[0], points: real),
                                           .init(name: "ddpm-1000", color: SVGPlot.palette[1], frames: frames)],
                                    steps: [0, 500, 999])
        #expect(CoreViewer.axisNames(9) == ["z₁", "z₂", "z₃", "z₄", "z₅", "z₆", "z₇", "z₈", "z₉"])
        var page = HTMLReport(title: "t")
        page.add("Core", "turn it", svg: SVGPlot.scatter(title: "s", xLabel: "a", yLabel: "b", points: [(0, 0, 0), (1, 1, 0), (2, 0, 0)], groupNames: ["x"]),
                 file: "core3d", viewer: viewer)
        let html = page.html()
        #expect(!html.contains("http://") && !html.contains("https://"), "the page must load nothing from the network")
        #expect(!html.contains("<script src") && !html.contains("<link"))
        #expect(html.components(separatedBy: "<script>").count == 2, "the viewer code is inlined once")
        #expect(html.contains("class=\"vst-viewer\"") && html.contains("class=\"vst-static\" src=\"core3d.svg\""))
        #expect(html.contains("vstSelfTest") && html.contains("pointermove") && html.contains("wheel"))
        // The inlined data parse as JSON with every frame, and cannot close the script tag early.
        let data = Self.matches(#"<script type="application/json" class="vst-data">(.*?)</script>"#, in: html)
        #expect(data.count == 1)
        #expect(!data[0][0].contains("</"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(data[0][0].utf8)) as? [String: Any])
        #expect(json["k"] as? Int == 9)
        #expect(json["steps"] as? [Int] == [0, 500, 999])
        let sets = try #require(json["sets"] as? [[String: Any]])
        #expect((sets[1]["frames"] as? [[Double]])?.count == 3)
        #expect((sets[0]["frames"] as? [[Double]])?.first?.count == 90)
        // A page without a core carries no script at all.
        var plain = HTMLReport(title: "t")
        plain.add("x", "y")
        #expect(!plain.html().contains("<script"))
    }

    @Test func viewerRefusesDataThatDoNotFitItsAxesOrSteps() throws {
        let x = try Tensor<Double>(Array(repeating: 0, count: 12), shape: [4, 3])
        #expect(throws: TensorError.self) { try CoreViewer(title: "t", axes: CoreViewer.axisNames(9), sets: [.init(name: "a", color: "#000000", points: x)]) }
        #expect(throws: TensorError.self) {
            try CoreViewer(title: "t", axes: CoreViewer.axisNames(3), sets: [.init(name: "a", color: "#000000", frames: [x, x])], steps: [0, 1, 2])
        }
    }

    @Test func reportIndexLinksEveryReportWithItsVerdict() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vst-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let index = ReportIndex(title: "Reports", entries: [
            .init(title: "Trajectory: ddpm-1000", link: "trajectory-ddpm-1000/index.html", verdict: "R3 → R2 → R1", summary: "R3→R2 at sampler step 350."),
            .init(title: "Scaling", link: "scaling/index.html", verdict: "S1", summary: "P* ≥ 0.9 at every rung."),
        ])
        #expect(throws: TensorError.self) { try index.write(to: dir.path) }   // no such report directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try index.write(to: dir.path)
        let html = try String(contentsOf: dir.appendingPathComponent("reports.html"), encoding: .utf8)
        #expect(html.contains("<a href=\"trajectory-ddpm-1000/index.html\">Trajectory: ddpm-1000</a>"))
        #expect(html.contains("<td class=\"verdict\">S1</td>"))
        #expect(throws: (any Error).self) { try index.write(to: dir.path) }   // kept unless overwrite
        try index.write(to: dir.path, overwrite: true)
        #expect(index.table.1.count == 2)
    }
}

extension ReportFigureTests {
    @Test func logAxisLabelsAreExactValuesWithoutTrailingZeros() {
        let svg = SVGPlot.line(title: "PR", xLabel: "d", yLabel: "PR", series: [.init("k*", [(64, 2), (512, 2)]), .init("PR", [(64, 1.45), (512, 1.49)])],
                               logX: true, logY: true, xTicks: [64, 128, 256, 512])
        let y = Self.axisTicks(svg)["y"] ?? []
        #expect(y.count >= 3 && !y.contains { $0.hasSuffix("0") && $0.contains(".") }, "\(y)")
        #expect(SVGPlot.trimmed("1.50") == "1.5" && SVGPlot.trimmed("2.00e-05") == "2e-05" && SVGPlot.trimmed("100") == "100")
        #expect(Self.axisTicks(svg)["x"] == ["64", "128", "256", "512"])
    }

    @Test func tableCellsWithNumbersAreRightAlignedAndTextLeftAligned() {
        var page = HTMLReport(title: "t")
        page.add("T", "x", table: (["check", "value", "message"], [["round_trip", "8.75e-16", "all values are finite"], ["regime", "—", "R2 − wide"]]))
        let html = page.html()
        #expect(html.contains("<td class=\"num\">8.75e-16</td>") && html.contains("<td class=\"num\">—</td>"))
        #expect(html.contains("<td>all values are finite</td>") && html.contains("<td>round_trip</td>"))
        // A message that starts with a number is text (it wraps); a number with its parenthesis is a number.
        #expect(!HTMLReport.isNumeric("1 ≤ k* = 3 ≤ 9: the signal fits the 9-D core") && HTMLReport.isNumeric("0.0208 (p 0.00498)"))
        #expect(HTMLReport.isNumeric("−0.5") && HTMLReport.isNumeric("—") && !HTMLReport.isNumeric("300, 16"))
    }
}
