import Foundation
import Linear

/// A data set named on the command line: the bundled digits, a 2-D toy (optionally lifted to D dimensions), or a
/// `.npy` / CSV file.
///
/// Names: `digits`, `moons`, `eight-gaussians`, `checkerboard`, `spiral`; a toy takes a dimension either from the
/// `dimension` argument (`--dim D`) or as `name:D` (e.g. `moons:256`). Anything ending in `.npy` or `.csv`, or
/// naming an existing file, is a file path.
public enum DataSource: Sendable, Equatable, CustomStringConvertible {
    /// The UCI digits, 1 797 × 64 in [−1, 1].
    case digits
    /// A toy drawn fresh from a seed; `dimension` 2 is the plane itself, D > 2 lifts it by the fixed
    /// `OrthogonalEmbedding` plus small isotropic noise.
    case toy(Toy2D, dimension: Int)
    /// An [n, D] `.npy` file (any numeric dtype) or a numeric CSV file (optional header, no label column).
    case file(path: String)

    /// Samples drawn from a toy when no count is given.
    public static let defaultToyCount = 10_000

    /// Parses a data name (see the type's documentation).
    /// - Throws: `ConfigurationError` (`DataSource.name`, `.dimension`) for an unknown name, a dimension where none fits (digits is 64-D),
    ///   a toy dimension below 2, or two different dimensions.
    public init(parsing text: String, dimension: Int? = nil) throws {
        var name = text
        var dim = dimension
        let lower = text.lowercased()
        let isPath = lower.hasSuffix(".npy") || lower.hasSuffix(".csv") || text.contains("/") || FileManager.default.fileExists(atPath: text)
        if !isPath, let colon = text.lastIndex(of: ":") {
            name = String(text[..<colon])
            guard let d = Int(text[text.index(after: colon)...]) else {
                throw ConfigurationError(field: "DataSource.name", reason: "data '\(text)': expected name:D with an integer dimension D")
            }
            if let given = dimension, given != d {
                throw ConfigurationError(field: "DataSource.dimension", reason: "data '\(text)': dimension \(d) in the name but \(given) given separately")
            }
            dim = d
        }
        if isPath {
            self = .file(path: text)
            return
        }
        if name.lowercased() == "digits" {
            if let d = dim, d != Digits.dimension {
                throw ConfigurationError(field: "DataSource.dimension", reason: "data 'digits' is \(Digits.dimension)-dimensional; it cannot be given dimension \(d)")
            }
            self = .digits
            return
        }
        guard let toy = try? Toy2D(parsing: name) else {
            throw ConfigurationError(field: "DataSource.name", reason: "unknown data '\(text)': expected digits, moons, eight-gaussians, checkerboard, spiral, or a .npy / .csv file")
        }
        let d = dim ?? 2
        guard d >= 2 else { throw ConfigurationError(field: "DataSource.dimension", reason: "data '\(name)': a toy's dimension must be ≥ 2, got \(d)") }
        self = .toy(toy, dimension: d)
    }

    /// The canonical name (`digits`, `moons:256`, or the path).
    public var description: String {
        switch self {
        case .digits: return "digits"
        case let .toy(t, d): return d == 2 ? t.rawValue : "\(t.rawValue):\(d)"
        case let .file(p): return p
        }
    }

    /// Whether fresh samples can be drawn (toys), rather than a fixed set read.
    public var isGenerated: Bool { if case .toy = self { return true }; return false }

    /// The data in model units.
    ///
    /// - Toys: `count` (default 10 000) fresh samples from `seed`, lifted by `OrthogonalEmbedding(dimension:seed:
    ///   embeddingSeed)` with noise std `noise` (default 0.01) when the dimension exceeds 2; the embedding does not
    ///   depend on `seed`, so different seeds give independent samples of one distribution (training vs held out).
    /// - Digits and files: every row, or a seeded random subset of `count` rows. Digits carry labels and the
    ///   [0, 16] → [−1, 1] scaling; files come in their own units (identity scaling).
    /// - Throws: `TensorError` for unreadable files, data that is not [n, D], or a count above the rows available.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func load<S: BLASScalar>(count: Int? = nil, seed: UInt64 = 0, embeddingSeed: UInt64 = OrthogonalEmbedding.defaultSeed,
                                    noise: Double = OrthogonalEmbedding.defaultNoise, digitsPath: String? = nil,
                                    as _: S.Type = S.self) throws -> LabeledData<S> {
        if let c = count, c < 0 { throw ConfigurationError(field: "DataSource.load(count:)", reason: "data \(self): the count must be ≥ 0, got \(c)") }
        switch self {
        case let .toy(toy, d):
            var g = RandomGenerator(seed: seed)
            let plane: Tensor<S> = try toy.sample(count ?? DataSource.defaultToyCount, using: &g)
            if d == 2 { return LabeledData(data: plane) }
            let embedding = try OrthogonalEmbedding(dimension: d, seed: embeddingSeed)
            return LabeledData(data: try embedding.lift(plane, noise: noise, using: &g))
        case .digits:
            return try DataSource.subset(Digits.load(path: digitsPath), count: count, seed: seed, name: "digits")
        case let .file(path):
            let x: Tensor<S>
            if path.lowercased().hasSuffix(".csv") {
                x = try CSV.read(path).data.cast()
            } else {
                x = try Tensor<S>.load(npy: path)
            }
            guard x.rank == 2, x.shape[0] >= 1 else {
                throw TensorError.file(path: path, message: "expected an [n, D] array of samples, got shape \(x.shape)")
            }
            try x.checkFinite(path)
            return try DataSource.subset(LabeledData(data: x), count: count, seed: seed, name: path)
        }
    }

    static func subset<S>(_ d: LabeledData<S>, count: Int?, seed: UInt64, name: String) throws -> LabeledData<S> {
        guard let c = count, c != d.count else { return d }
        guard c <= d.count else { throw ConfigurationError(field: "DataSource.load(count:)", reason: "data \(name): \(c) samples asked for but it has \(d.count)") }
        var g = RandomGenerator(seed: seed)
        return try d.subset(g.choice(d.count, count: c))
    }
}
