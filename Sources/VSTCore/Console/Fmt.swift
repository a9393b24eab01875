import Foundation

/// Small formatting helpers for the tables that commands print for people.
public enum Fmt {
    /// `x` with `digits` significant digits (%g), or "—" for nil and non-finite values.
    public static func f(_ x: Double?, _ digits: Int = 4) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(digits)g", x)
    }

    /// One row with each cell padded to its column's width.
    public static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { c, w in c.padding(toLength: Swift.max(w, c.count), withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }

    /// A header, a rule and the rows, in columns as wide as their widest cell.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { i in ([header[i]] + rows.map { i < $0.count ? $0[i] : "" }).map(\.count).max() ?? 0 }
        return ([row(header, widths: widths), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
            + rows.map { row($0, widths: widths) }).joined(separator: "\n")
    }
}
