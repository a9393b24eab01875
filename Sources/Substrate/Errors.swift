import Linear

/// A request the analysis cannot answer: too few rows, sizes that do not fit, a parameter out of its range, a
/// quantity that is undefined for these data. Each case names the term of docs/method.md (or the function) it is
/// about and says what was wrong, e.g. `fit: need at least 2 rows to fit a projection, got 1`.
///
/// Shape and argument errors of the tensor operations themselves stay `TensorError` (Linear's domain); this type is
/// for the analysis input: what a caller of `Projection.fit`, `Regimes.classify`, `Drift.compare`, `Scaling.analyze`,
/// `TrajectoryAnalysis.analyze` or `CorpusAnalysis` gave.
public enum AnalysisError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `term` needs at least `needed` rows (states, shards, rungs, blocks) and got `got`; `detail` says more.
    case tooFewRows(term: String, needed: Int, got: Int, detail: String)
    /// The data given to `term` have the wrong shape: `problem` says which and what was expected.
    case shape(term: String, problem: String)
    /// A parameter of `term` outside its domain (a core size k > D, a fraction outside (0, 1), …).
    case parameter(term: String, name: String, problem: String)
    /// Non-finite values (NaN or ±Inf) in the data of `term`: `count` of them, the first at `row`, `column`.
    case nonFinite(term: String, count: Int, row: Int, column: Int, detail: String)
    /// `term` is undefined for these data (zero variance, identical points, …): `reason` says why.
    case undefined(term: String, reason: String)
    /// Two inputs of `term` that cannot be combined (different widths, bandwidths, row counts).
    case incompatible(term: String, problem: String)

    /// The term (or function) the error is about.
    public var term: String {
        switch self {
        case let .tooFewRows(t, _, _, _), let .shape(t, _), let .parameter(t, _, _), let .nonFinite(t, _, _, _, _),
             let .undefined(t, _), let .incompatible(t, _):
            return t
        }
    }

    public var description: String {
        switch self {
        case let .tooFewRows(term, _, _, detail): return "\(term): \(detail)"
        case let .shape(term, problem): return "\(term): \(problem)"
        case let .parameter(term, _, problem): return "\(term): \(problem)"
        case let .nonFinite(term, count, row, column, detail):
            return "\(term): \(count) non-finite value\(count == 1 ? "" : "s") (NaN or ±Inf)\(detail), first at row \(row), column \(column)"
        case let .undefined(term, reason): return "\(term): \(reason)"
        case let .incompatible(term, problem): return "\(term): \(problem)"
        }
    }
}

/// An input file that cannot be used: missing, of an unknown type, of the wrong shape, holding non-finite values or
/// not what it claims to be. The message starts with the path: `latents.npy: need at least 2 rows, got 1`.
public struct InputFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (as the user named it).
    public var path: String
    /// What is wrong with it.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

extension AnalysisError {
    /// Throws `.nonFinite` naming `term`, with the count of NaN/±Inf values and the row and column of the first,
    /// when `x` [n, D] holds any.
    public static func requireFinite<S: BLASScalar>(_ x: Tensor<S>, term: String) throws {
        do { try x.checkFinite(term) } catch let TensorError.nonFinite(count, first, _) {
            throw AnalysisError.nonFinite(term: term, count: count, row: first.first ?? 0, column: first.count > 1 ? first[1] : 0, detail: "")
        }
    }
}
