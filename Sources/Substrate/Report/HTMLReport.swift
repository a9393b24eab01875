import Foundation
import Linear

/// A report directory: `report.json`, one SVG file per figure and an `index.html` that shows them in order,
/// each with a sentence or two on how to read it. Files are written atomically; existing files are kept unless
/// `overwrite`. A section may carry an interactive `CoreViewer` (a turnable 3-D view of the core); its script is
/// inlined once, so the page stays self-contained and offline, and the section's static SVG is kept for printing.
public struct HTMLReport: Sendable {
    public struct Section: Sendable {
        public var heading: String
        public var text: String
        /// SVG figure (written as `<file>.svg` and embedded by reference).
        public var svg: String?
        public var file: String?
        /// Optional table: header and rows, shown under the text.
        public var table: ([String], [[String]])?
        /// Optional interactive view of a core, shown above the static figure (which then only prints).
        public var viewer: CoreViewer? = nil
    }

    public var title: String
    public var subtitle: String
    public var sections: [Section] = []

    public init(title: String, subtitle: String = "") { self.title = title; self.subtitle = subtitle }

    /// Adds a section with an optional figure saved as `file`.svg.
    public mutating func add(_ heading: String, _ text: String, svg: String? = nil, file: String? = nil, table: ([String], [[String]])? = nil,
                             viewer: CoreViewer? = nil) {
        sections.append(Section(heading: heading, text: text, svg: svg, file: file ?? (svg == nil ? nil : "figure\(sections.count + 1)"), table: table,
                                viewer: viewer))
    }

    /// A JSON value for a table cell, for people: strings without quotes, numbers to three significant digits
    /// (`SVGPlot.number`), "—" for null, yes/no for booleans, lists joined by commas.
    public static func cell(_ value: JSON) -> String {
        switch value {
        case .null: return "—"
        case .bool(let b): return b ? "yes" : "no"
        case .number(let x): return SVGPlot.number(x)
        case .int(let i): return String(i)
        case .string(let s): return s.isEmpty ? "—" : s
        case .array(let a): return a.isEmpty ? "—" : a.map(cell).joined(separator: ", ")
        case .object(let o): return o.isEmpty ? "—" : o.map { "\($0.0): \(cell($0.1))" }.joined(separator: ", ")
        }
    }

    /// A cell that holds a number (or "—"), alone or with a parenthesis ("0.0208 (p 0.00498)"): right-aligned and
    /// kept on one line so digits line up. Text that merely starts with a number ("1 ≤ k* = 3 ≤ 9: …") stays
    /// left-aligned and wraps.
    static func isNumeric(_ cell: String) -> Bool {
        if cell == "—" { return true }
        let parts = cell.split(separator: " ", maxSplits: 1).map(String.init)
        guard let head = parts.first, Double(head.replacingOccurrences(of: "−", with: "-")) != nil else { return false }
        return parts.count == 1 || parts[1].hasPrefix("(")
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The page.
    public func html() -> String {
        let script = sections.contains(where: { $0.viewer != nil }) ? "<script>\n" + CoreViewer.script + "\n</script>" : ""
        var body = ""
        for (i, s) in sections.enumerated() {
            body += "<section>\n<h2>\(HTMLReport.esc(s.heading))</h2>\n<p>\(HTMLReport.esc(s.text))</p>\n"
            if let v = s.viewer { body += v.html(id: "viewer\(i + 1)") + "\n" }
            if let file = s.file, s.svg != nil {
                body += "<img\(s.viewer == nil ? "" : " class=\"vst-static\"") src=\"\(file).svg\" alt=\"\(HTMLReport.esc(s.heading))\">\n"
            }
            if let (header, rows) = s.table {
                body += "<table>\n<tr>" + header.map { "<th>\(HTMLReport.esc($0))</th>" }.joined() + "</tr>\n"
                for r in rows { body += "<tr>" + r.map { HTMLReport.isNumeric($0) ? "<td class=\"num\">\(HTMLReport.esc($0))</td>" : "<td>\(HTMLReport.esc($0))</td>" }.joined() + "</tr>\n" }
                body += "</table>\n"
            }
            body += "</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTMLReport.esc(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        img { max-width: 100%; border: 1px solid #eee; }
        table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; } th { background: #f4f4f4; }
        td.num { text-align: right; white-space: nowrap; }
        .sub { color: #666; }
        .vst-viewer canvas { border: 1px solid #eee; max-width: 100%; }
        .vst-controls { font-size: 0.9em; margin: 0.3em 0 0.8em; } .vst-controls label { margin-right: 1em; white-space: nowrap; }
        .vst-swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px; }
        .vst-print-only { display: none; }
        @media print { .vst-viewer { display: none; } .vst-print-only { display: inline; } }
        </style></head><body>
        <h1>\(HTMLReport.esc(title))</h1>
        <p class="sub">\(HTMLReport.esc(subtitle))</p>
        \(body)
        <p class="sub">The numbers behind every figure are in <a href="report.json">report.json</a>.</p>
        \(script)
        </body></html>
        """
    }

    /// Writes report.json, every figure and index.html into `dir` (created if missing).
    public func write(to dir: String, json: JSON, overwrite: Bool = false) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw TensorError.file(path: dir, message: "exists and is not a directory") }
        } else {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw TensorError.file(path: dir, message: "cannot be created: \(error.localizedDescription)") }
        }
        let base = URL(fileURLWithPath: dir)
        func put(_ name: String, _ text: String) throws {
            try AtomicFile.write(Data(text.utf8), to: base.appendingPathComponent(name).path, overwrite: overwrite)
        }
        try put("report.json", json.serialized(pretty: true) + "\n")
        for s in sections { if let svg = s.svg, let f = s.file { try put(f + ".svg", svg) } }
        try put("index.html", html())
    }
}
