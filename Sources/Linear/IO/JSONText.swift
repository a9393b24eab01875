import Foundation

/// JSON string literals, for every module of the package that writes JSON by hand (safetensors headers, reports).
package enum JSONText {
    /// `s` as a JSON string literal (RFC 8259 §7): quotes, backslash and control characters escaped, the rest as is.
    package static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// Parsed JSON text, for every module of the package that reads JSON (safetensors headers, report results).
package enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null, bool(Bool), int(Int), double(Double), string(String)
    case array([JSONValue]), object([String: JSONValue])

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: Decoder) throws {
        if let c = try? decoder.container(keyedBy: Key.self) {
            var d: [String: JSONValue] = [:]
            for k in c.allKeys { d[k.stringValue] = try c.decode(JSONValue.self, forKey: k) }
            self = .object(d)
            return
        }
        if var c = try? decoder.unkeyedContainer() {
            var a: [JSONValue] = []
            while !c.isAtEnd { a.append(try c.decode(JSONValue.self)) }
            self = .array(a)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let x = try? c.decode(Double.self) { self = .double(x) }
        else { self = .string(try c.decode(String.self)) }
    }

    package var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return String(b)
        case let .int(i): return String(i)
        case let .double(x): return String(x)
        case let .string(s): return JSONText.quoted(s)
        case let .array(a): return "[" + a.map(\.description).joined(separator: ",") + "]"
        case let .object(o): return "{" + o.keys.sorted().map { "\(JSONText.quoted($0)):\(o[$0]?.description ?? "null")" }.joined(separator: ",") + "}"
        }
    }
}
