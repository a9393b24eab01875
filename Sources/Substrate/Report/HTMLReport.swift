import Foundation
import Linear

/// A report directory: `report.json`, one SVG file per figure and an `index.html` that shows them in order,
/// each with a sentence or two on how to read it. Files are written atomically; existing files are kept unless
/// `overwrite`.
public struct HTMLReport: Sendable {
    public struct Section: Sendable {
        public var heading: String
        public var text: String
        /// SVG figure (written as `<file>.svg` and embedded by reference).
        public var svg: String?
        public var file: String?
        /// Optional table: header and rows, shown under the text.
        public var table: ([String], [[String]])?
    }

    public var title: String
    public var subtitle: String
    public var sections: [Section] = []

    public init(title: String, subtitle: String = "") { self.title = title; self.subtitle = subtitle }

    /// Adds a section with an optional figure saved as `file`.svg.
    public mutating func add(_ heading: String, _ text: String, svg: String? = nil, file: String? = nil, table: ([String], [[String]])? = nil) {
        sections.append(Section(heading: heading, text: text, svg: svg, file: file ?? (svg == nil ? nil : "figure\(sections.count + 1)"), table: table))
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The page.
    public func html() -> String {
        var body = ""
        for s in sections {
            body += "<section>\n<h2>\(HTMLReport.esc(s.heading))</h2>\n<p>\(HTMLReport.esc(s.text))</p>\n"
            if let file = s.file, s.svg != nil { body += "<img src=\"\(file).svg\" alt=\"\(HTMLReport.esc(s.heading))\">\n" }
            if let (header, rows) = s.table {
                body += "<table>\n<tr>" + header.map { "<th>\(HTMLReport.esc($0))</th>" }.joined() + "</tr>\n"
                for r in rows { body += "<tr>" + r.map { "<td>\(HTMLReport.esc($0))</td>" }.joined() + "</tr>\n" }
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
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } th { background: #f4f4f4; }
        td:first-child, th:first-child { text-align: left; }
        .sub { color: #666; }
        </style></head><body>
        <h1>\(HTMLReport.esc(title))</h1>
        <p class="sub">\(HTMLReport.esc(subtitle))</p>
        \(body)
        <p class="sub">The numbers behind every figure are in <a href="report.json">report.json</a>.</p>
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
