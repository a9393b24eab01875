import Foundation
import Linear

/// A JSON value with ordered object keys, so `--json` output is stable (docs/method.md §10).
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    /// A number, or `null` when it is NaN or ±Inf (JSON has no such numbers).
    public static func num(_ x: Double?) -> JSON {
        guard let x, x.isFinite else { return .null }
        return .number(x)
    }

    /// An array of numbers.
    public static func nums(_ xs: [Double]) -> JSON { .array(xs.map { .num($0) }) }

    /// The value under `key` of an object.
    public subscript(key: String) -> JSON? {
        if case let .object(pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    /// Compact (one line) or indented text.
    public func serialized(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(into out: inout String, pretty: Bool, indent: Int) {
        let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
        let close = pretty ? String(repeating: "  ", count: indent) : ""
        let nl = pretty ? "\n" : ""
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .number(x):
            if x == x.rounded() && Swift.abs(x) < 1e15 { out += String(Int64(x)) } else { out += "\(x)" }
        case let .string(s): JSON.escape(s, into: &out)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            let scalarItems = items.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if scalarItems {
                out += "["
                for (i, v) in items.enumerated() { if i > 0 { out += pretty ? ", " : "," }; v.write(into: &out, pretty: pretty, indent: indent + 1) }
                out += "]"
                return
            }
            out += "[" + nl
            for (i, v) in items.enumerated() {
                out += pad; v.write(into: &out, pretty: pretty, indent: indent + 1)
                out += (i < items.count - 1 ? "," : "") + nl
            }
            out += close + "]"
        case let .object(pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{" + nl
            for (i, (k, v)) in pairs.enumerated() {
                out += pad; JSON.escape(k, into: &out); out += pretty ? ": " : ":"
                v.write(into: &out, pretty: pretty, indent: indent + 1)
                out += (i < pairs.count - 1 ? "," : "") + nl
            }
            out += close + "}"
        }
    }

    private static func escape(_ s: String, into out: inout String) { out += JSONText.quoted(s) }
}

/// Anything that reports itself as one JSON object with the keys of docs/method.md §10.
public protocol JSONReportable {
    var json: JSON { get }
}
