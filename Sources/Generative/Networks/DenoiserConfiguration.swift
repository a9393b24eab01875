import Foundation
import Linear
import Neural

/// Which network a family trains, with its configuration: what a model file stores so it can rebuild the network.
///
/// In a model file's metadata, `denoiser` holds the configuration as JSON and `denoiser_kind` names the network
/// (`mlp` or `dit`). Files written before DiT existed have no `denoiser_kind` and hold an
/// `MLPDenoiserConfiguration`; they load as `.mlp`.
public enum DenoiserConfiguration: Sendable, Equatable {
    /// The residual-MLP denoiser for vectors (`MLPDenoiser`).
    case mlp(MLPDenoiserConfiguration)
    /// The Diffusion Transformer for images (`DiT`).
    case dit(DiTConfiguration)

    /// The data dimension D.
    public var dimension: Int {
        switch self { case let .mlp(c): return c.dimension; case let .dit(c): return c.dimension }
    }

    /// Classes the network is conditioned on (0: unconditional).
    public var classCount: Int {
        switch self { case let .mlp(c): return c.classCount; case let .dit(c): return c.classCount }
    }

    /// The network's name in metadata and on the command line: `mlp` or `dit`.
    public var kind: String {
        switch self { case .mlp: return "mlp"; case .dit: return "dit" }
    }

    /// The MLP configuration (nil for other networks).
    public var mlp: MLPDenoiserConfiguration? { if case let .mlp(c) = self { return c }; return nil }
    /// The DiT configuration (nil for other networks).
    public var dit: DiTConfiguration? { if case let .dit(c) = self { return c }; return nil }

    /// An upper estimate of the network's parameter count computed from the configuration alone (saturating, so an
    /// absurd configuration read from a file is recognised before anything is allocated).
    public var approximateParameterCount: Int {
        func mul(_ xs: Int...) -> Int {
            var p = 1
            for x in xs { let (r, o) = p.multipliedReportingOverflow(by: Swift.max(0, x)); if o { return Int.max / 8 }; p = r }
            return p
        }
        func add(_ xs: Int...) -> Int { xs.reduce(0) { Swift.min(Int.max / 8, $0 + $1) } }
        switch self {
        case let .mlp(c):
            let h = c.hidden
            return add(mul(c.dimension + c.timeFrequencies + c.classCount + 2, h), mul(c.blocks, 4, h, h + 2), mul(h, c.dimension + 1))
        case let .dit(c):
            let w = c.width, tokenSize = mul(c.channels, c.patch, c.patch)
            return add(mul(tokenSize + 1, w), mul(c.timeFrequencies + c.classCount + 2, w), mul(w, w),
                       mul(c.depth, w, w, 12 + 2 * c.mlpRatio), mul(w, 2 * w + tokenSize + 2), mul(c.imageSide, c.imageSide, w))
        }
    }

    /// A freshly initialised network, its weights drawn from a generator seeded by `seed`.
    public func makeDenoiser<S: BLASScalar>(seed: UInt64, as _: S.Type = S.self) throws -> any Denoiser<S> {
        switch self {
        case let .mlp(c): return try MLPDenoiser<S>(c, seed: seed)
        case let .dit(c): return try DiT<S>(c, seed: seed)
        }
    }

    /// The metadata entries `denoiser_kind` and `denoiser` (the configuration as JSON).
    public func metadata() throws -> [String: String] {
        let json: Data
        switch self {
        case let .mlp(c): json = try JSONEncoder().encode(c)
        case let .dit(c): json = try JSONEncoder().encode(c)
        }
        return ["denoiser_kind": kind, "denoiser": String(decoding: json, as: UTF8.self)]
    }

    /// Reads `denoiser_kind` (missing: `mlp`, as in files written before it existed) and `denoiser`.
    public init(metadata m: [String: String]) throws {
        guard let json = m["denoiser"] else { throw ModelStateError(reason: "metadata 'denoiser' is missing") }
        let data = Data(json.utf8)
        switch m["denoiser_kind"] ?? "mlp" {
        case "mlp": self = .mlp(try JSONDecoder().decode(MLPDenoiserConfiguration.self, from: data))
        case "dit": self = .dit(try JSONDecoder().decode(DiTConfiguration.self, from: data))
        case let other: throw ModelStateError(reason: "unknown denoiser kind '\(other)' (expected mlp or dit)")
        }
    }
}
