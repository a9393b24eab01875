import Foundation
import Linear

extension JSON {
    /// Parses JSON text (RFC 8259). Object keys come back sorted (the text's order is not kept); integers that fit
    /// an `Int` become `.int`, other numbers `.number`. Throws `TensorError.file` naming `path` when the text is
    /// not JSON.
    public init(parsing data: Data, path: String) throws {
        do { self = JSON(try JSONDecoder().decode(JSONValue.self, from: data)) }
        catch { throw TensorError.file(path: path, message: "is not valid JSON (\(error.localizedDescription))") }
    }

    /// The report-writing form of parsed JSON, object keys sorted.
    init(_ v: JSONValue) {
        switch v {
        case .null: self = .null
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .double(x): self = .number(x)
        case let .string(s): self = .string(s)
        case let .array(a): self = .array(a.map(JSON.init))
        case let .object(o): self = .object(o.keys.sorted().map { ($0, JSON(o[$0]!)) })
        }
    }
}

extension ReportIndex {
    /// The verdict of one report (or `vst … --json` result) in a word or code, and one sentence on what it found,
    /// read from its JSON by the keys of docs/method.md §10, most specific first:
    /// a demo study (`demo`: the validation status and its first finding); a validation report (`checks`: its
    /// status and how many checks passed, warned, failed); a trajectory (`regime_sequence` and its transitions in
    /// sampler steps); sample quality (`beats_baseline`); drift (`drift`); a regime, scaling or alignment class
    /// (`regime`: R1–R3, S1–S3, A1–A3, with its first reason); any other `status` (e.g. a scale-out job's). "—" and
    /// an empty sentence when none of these keys is present.
    public static func verdict(of j: JSON) -> (verdict: String, summary: String) {
        func str(_ v: JSON?) -> String? { if case .string(let s)? = v { return s }; return nil }
        func firstString(_ v: JSON?) -> String? {
            if case .array(let a)? = v, let f = a.first, case .string(let s) = f { return s }
            return nil
        }
        func sentence(_ s: String?) -> String {
            guard let s, !s.isEmpty else { return "" }
            return s.hasSuffix(".") ? s : s + "."
        }
        if let demo = j["demo"] {
            return (str(j["validation"]?["status"]) ?? "—", sentence(firstString(demo["summary"])))
        }
        if case .array = j["checks"], let report = try? ValidationReport(json: j) {
            let n = { (s: CheckStatus) in report.checks.filter { $0.status == s }.count }
            let worst = report.checks.first { $0.status == report.status && $0.status != .pass }
            return (report.status.rawValue, "\(report.checks.count) checks: \(n(.pass)) pass, \(n(.warn)) warn, \(n(.fail)) fail."
                        + (worst.map { " \($0.layer) \($0.name): " + sentence($0.message) } ?? ""))
        }
        if let seq = str(j["regime_sequence"]) {
            var moves: [String] = []
            if case .array(let ts)? = j["transitions"] {
                for t in ts {
                    if let from = str(t["from"]), let to = str(t["to"]), case .int(let at)? = t["t"] { moves.append("\(from)→\(to) at sampler step \(at)") }
                }
            }
            return (seq.isEmpty ? "—" : seq, moves.isEmpty ? "No change of regime." : moves.joined(separator: ", ") + ".")
        }
        if case .bool(let b)? = j["beats_baseline"] {
            return (b ? "beats baseline" : "below baseline", sentence(firstString(j["reasons"])))
        }
        if case .bool(let d)? = j["drift"] {
            return (d ? "drift" : "no drift", sentence(firstString(j["reasons"])))
        }
        if let r = str(j["regime"]) { return (r, sentence(firstString(j["reasons"]))) }
        if let s = str(j["status"]) {
            var parts: [String] = []
            if case .int(let rows)? = j["rows"] { parts.append("\(rows) rows" + { if case .int(let d)? = j["d"] { return " × D = \(d)" }; return "" }()) }
            if case .int(let used)? = j["used_shards"] { parts.append("\(used) shards used") }
            else if case .int(let shards)? = j["shards"] { parts.append("\(shards) shards") }
            return (s, parts.isEmpty ? "" : parts.joined(separator: ", ") + ".")
        }
        return ("—", "")
    }

    /// An index of every report under `dir`: each report directory (an `index.html` beside its `report.json`, as
    /// `HTMLReport.write` leaves them) at most `maxDepth` directories down, the top directory's own report first,
    /// then by path; plus each of `results` (JSON files, paths relative to `dir`, e.g. `vst … --json` outputs),
    /// linked as they are. An entry is named by its directory (the top report by its page `<title>`, a result by its
    /// path); its sentence opens with the page title, then `verdict(of:)`. A report whose report.json cannot be read is listed as "unreadable" with the
    /// reason. Throws `TensorError.file` when `dir` is not a directory or a result is missing or not JSON.
    public static func scan(_ dir: String, title: String, subtitle: String = "", results: [String] = [], maxDepth: Int = 5) throws -> ReportIndex {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TensorError.file(path: dir, message: fm.fileExists(atPath: dir) ? "is not a directory (nothing to index)" : "does not exist (nothing to index)")
        }
        let base = URL(fileURLWithPath: dir)
        var pages: [String] = []
        func walk(_ rel: String, depth: Int) {
            let here = rel.isEmpty ? base : base.appendingPathComponent(rel)
            let names = ((try? fm.contentsOfDirectory(atPath: here.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            if names.contains("index.html"), names.contains("report.json") { pages.append(rel.isEmpty ? "index.html" : rel + "/index.html") }
            guard depth < maxDepth else { return }
            for n in names {
                var sub: ObjCBool = false
                let child = rel.isEmpty ? n : rel + "/" + n
                if fm.fileExists(atPath: base.appendingPathComponent(child).path, isDirectory: &sub), sub.boolValue { walk(child, depth: depth + 1) }
            }
        }
        walk("", depth: 0)
        var index = ReportIndex(title: title, subtitle: subtitle)
        for page in pages {
            let pageURL = base.appendingPathComponent(page)
            let jsonPath = pageURL.deletingLastPathComponent().appendingPathComponent("report.json").path
            let html = (try? String(contentsOf: pageURL, encoding: .utf8)) ?? ""
            let pageTitle = pageTitleOf(html)
            // Several reports of one job often share a page title ("The model beats the Gaussian baseline"): the
            // directory names the report, the page title opens its sentence.
            let name = page == "index.html" ? (pageTitle ?? "this directory") : String(page.dropLast("/index.html".count))
            let lead = page == "index.html" || pageTitle == nil ? "" : pageTitle! + ". "
            do {
                let j = try JSON(parsing: try Data(contentsOf: URL(fileURLWithPath: jsonPath)), path: jsonPath)
                let (v, s) = verdict(of: j)
                index.entries.append(Entry(title: name, link: page, verdict: v, summary: lead + s))
            } catch {
                index.entries.append(Entry(title: name, link: page, verdict: "unreadable", summary: lead + "Its report.json cannot be read: \(error)"))
            }
        }
        for r in results {
            let path = base.appendingPathComponent(r).path
            guard fm.fileExists(atPath: path) else { throw TensorError.file(path: r, message: "is not in \(dir) (a --result path is relative to the directory)") }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) }
            catch { throw TensorError.file(path: r, message: "cannot be read: \(error.localizedDescription)") }
            let (v, s) = verdict(of: try JSON(parsing: data, path: r))
            index.entries.append(Entry(title: r, link: r, verdict: v, summary: s))   // the name says the link opens JSON
        }
        return index
    }

    /// The text of a page's `<title>`, unescaped.
    static func pageTitleOf(_ html: String) -> String? {
        guard let a = html.range(of: "<title>"), let b = html.range(of: "</title>", range: a.upperBound..<html.endIndex) else { return nil }
        let t = String(html[a.upperBound..<b.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        return t.isEmpty ? nil : t
    }
}
