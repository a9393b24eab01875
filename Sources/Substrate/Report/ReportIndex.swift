import Foundation
import Linear

/// One page that links the reports a job wrote (the demo's sub-reports, `make quality`'s per-model reports, a
/// scale-out driver's runs) with a summary table of their verdicts, so a reader sees every result at a glance and
/// opens the one that needs a look. Written atomically like every report file.
public struct ReportIndex: Sendable {
    public struct Entry: Sendable {
        /// What the report is about (e.g. "Trajectory: ddpm-1000").
        public var title: String
        /// Path of the report's page relative to the index (e.g. "trajectory-ddpm-1000/index.html").
        public var link: String
        /// Its verdict in a word or code (R1, S2, A1, "drift", "pass" …); "—" when it has none.
        public var verdict: String
        /// One sentence on what it found.
        public var summary: String
        public init(title: String, link: String, verdict: String, summary: String) {
            self.title = title; self.link = link; self.verdict = verdict; self.summary = summary
        }
    }

    public var title: String
    public var subtitle: String
    public var entries: [Entry]

    public init(title: String, subtitle: String = "", entries: [Entry] = []) {
        self.title = title; self.subtitle = subtitle; self.entries = entries
    }

    /// The entries as a report section's table (report, verdict, what it found) — for a page that also shows them.
    public var table: ([String], [[String]]) {
        (["report", "verdict", "what it found"], entries.map { [$0.title + " (" + $0.link + ")", $0.verdict, $0.summary] })
    }

    /// The index page.
    public func html() -> String {
        let rows = entries.map { e in
            "<tr><td><a href=\"\(HTMLReport.esc(e.link))\">\(HTMLReport.esc(e.title))</a></td><td class=\"verdict\">\(HTMLReport.esc(e.verdict.isEmpty ? "—" : e.verdict))</td><td>\(HTMLReport.esc(e.summary))</td></tr>"
        }.joined(separator: "\n")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTMLReport.esc(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
        h1 { font-size: 1.6em; } table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.95em; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; } th { background: #f4f4f4; }
        td.verdict { font-weight: bold; text-align: center; } .sub { color: #666; }
        </style></head><body>
        <h1>\(HTMLReport.esc(title))</h1>
        <p class="sub">\(HTMLReport.esc(subtitle))</p>
        <section>
        <h2>Reports</h2>
        <table>
        <tr><th>report</th><th>verdict</th><th>what it found</th></tr>
        \(rows)
        </table>
        </section>
        </body></html>
        """
    }

    /// Writes the index as `dir/name` (default `reports.html`), atomically; an existing file is kept unless
    /// `overwrite`.
    public func write(to dir: String, name: String = "reports.html", overwrite: Bool = false) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TensorError.file(path: dir, message: "is not a report directory (write the reports first)")
        }
        try AtomicFile.write(Data(html().utf8), to: URL(fileURLWithPath: dir).appendingPathComponent(name).path, overwrite: overwrite)
    }
}
