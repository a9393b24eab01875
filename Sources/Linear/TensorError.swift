/// Everything that can go wrong in `Linear`, each with a message that says what was wrong and where.
public enum TensorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Two operands whose shapes do not fit the operation, e.g. `matmul` of [2, 3] and [4, 5].
    case shapeMismatch(operation: String, lhs: [Int], rhs: [Int])
    /// A shape or axis that is invalid on its own (negative size, axis out of range, count mismatch).
    case invalidShape(String)
    /// An argument outside its domain.
    case invalidArgument(String)
    /// A LAPACK routine returned a non-zero `info`.
    case lapack(routine: String, info: Int, message: String)
    /// Non-finite values where finite ones are required.
    case nonFinite(count: Int, firstIndex: [Int], context: String)
    /// A file could not be read or written, or its content is malformed.
    case file(path: String, message: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, l, r):
            return "\(op): shapes \(l) and \(r) are incompatible"
        case let .invalidShape(m): return m
        case let .invalidArgument(m): return m
        case let .lapack(routine, info, message): return "\(routine) failed (info = \(info)): \(message)"
        case let .nonFinite(count, first, context):
            return "\(context): \(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf), first at index \(first)"
        case let .file(path, message): return "\(path): \(message)"
        }
    }
}
