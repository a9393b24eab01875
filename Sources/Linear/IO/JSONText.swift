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
