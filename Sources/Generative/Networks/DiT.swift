import Foundation
import Linear
import Neural

/// How DiT tells tokens apart.
public enum DiTPositionalEmbedding: String, Sendable, Codable, CaseIterable {
    /// The fixed 2-D sin-cos embedding of DiT/MAE (no parameters): half the width encodes the row, half the column,
    /// each as [sin(p·ωᵢ), cos(p·ωᵢ)] with ωᵢ = 10000^(−i/(W/4)), i < W/4.
    case sinCos = "sincos"
    /// A learned table [tokens, width], initialised N(0, 0.02²).
    case learned

    /// Parses `sincos` (or `sin-cos`) or `learned`.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "sincos", "sin-cos": self = .sinCos
        case "learned": self = .learned
        default: throw ConfigurationError(field: "DiTPositionalEmbedding.name", reason: "unknown positional embedding '\(name)': expected sincos or learned")
        }
    }
}

/// The configuration of `DiT` for square images of `channels × side × side` stored as rows of
/// D = channels·side² values (channel-major, then row-major pixels: the layout of the bundled digits).
///
/// Defaults are a small DiT that learns the 8×8 digits in minutes on a CPU: 2×2 patches (16 tokens), width 64,
/// depth 4, 4 heads, MLP ratio 4, 256 sinusoidal frequencies for the timestep (DiT's default), sin-cos positions.
public struct DiTConfiguration: Sendable, Equatable, Codable {
    /// Side length of the (square) image.
    public var imageSide: Int
    /// Number of channels.
    public var channels: Int = 1
    /// Side length p of the square patches (must divide `imageSide`).
    public var patch: Int = 2
    /// Token width (hidden size) W; must be divisible by `heads` (and by 4 for sin-cos positions).
    public var width: Int = 64
    /// Number of DiT blocks.
    public var depth: Int = 4
    /// Attention heads.
    public var heads: Int = 4
    /// Hidden size of each block's MLP as a multiple of the width.
    public var mlpRatio: Int = 4
    /// Sinusoidal frequencies of the timestep embedding.
    public var timeFrequencies: Int = 256
    /// Classes to condition on (0: unconditional); label `classCount` is the null class of classifier-free guidance.
    public var classCount: Int = 0
    public var positionalEmbedding: DiTPositionalEmbedding = .sinCos

    public init(imageSide: Int, channels: Int = 1, patch: Int = 2, width: Int = 64, depth: Int = 4, heads: Int = 4, mlpRatio: Int = 4,
                timeFrequencies: Int = 256, classCount: Int = 0, positionalEmbedding: DiTPositionalEmbedding = .sinCos) {
        self.imageSide = imageSide; self.channels = channels; self.patch = patch; self.width = width; self.depth = depth
        self.heads = heads; self.mlpRatio = mlpRatio; self.timeFrequencies = timeFrequencies; self.classCount = classCount
        self.positionalEmbedding = positionalEmbedding
    }

    /// A configuration for rows of `dimension` = channels·side² values (the side is inferred).
    /// - Throws: `ConfigurationError` (`DiTConfiguration.dimension`) when `dimension`/`channels` is not a perfect square.
    public init(dimension: Int, channels: Int = 1, patch: Int = 2, width: Int = 64, depth: Int = 4, heads: Int = 4, mlpRatio: Int = 4,
                timeFrequencies: Int = 256, classCount: Int = 0, positionalEmbedding: DiTPositionalEmbedding = .sinCos) throws {
        guard channels >= 1, dimension >= 1, dimension % channels == 0 else {
            throw ConfigurationError(field: "DiTConfiguration.dimension", reason: "DiT: dimension \(dimension) is not a multiple of \(channels) channels")
        }
        let pixels = dimension / channels
        let side = Int(Double(pixels).squareRoot().rounded())
        guard side * side == pixels else {
            throw ConfigurationError(field: "DiTConfiguration.dimension", reason: "DiT: dimension \(dimension) is not channels × side² for \(channels) channel(s) (a square image is needed)")
        }
        self.init(imageSide: side, channels: channels, patch: patch, width: width, depth: depth, heads: heads, mlpRatio: mlpRatio,
                  timeFrequencies: timeFrequencies, classCount: classCount, positionalEmbedding: positionalEmbedding)
    }

    /// D = channels·side².
    public var dimension: Int { channels * imageSide * imageSide }
    /// Patches per side, side/p.
    public var gridSide: Int { imageSide / Swift.max(patch, 1) }
    /// Number of tokens T = (side/p)².
    public var tokens: Int { gridSide * gridSide }
    /// Values per patch, p²·channels.
    public var patchDimension: Int { patch * patch * channels }

    func validate() throws {
        guard imageSide >= 1, channels >= 1, patch >= 1, imageSide % patch == 0 else {
            throw ConfigurationError(field: "DiTConfiguration.patch", reason: "DiT: the patch size \(patch) must divide the image side \(imageSide)")
        }
        try ConfigurationError.check("DiTConfiguration", ["width": width >= 1, "depth": depth >= 0, "heads": heads >= 1 && width % heads == 0,
                                                        "mlpRatio": mlpRatio >= 1, "timeFrequencies": timeFrequencies >= 2, "classCount": classCount >= 0],
                                     reason: "DiT: need width divisible by heads, depth ≥ 0, mlpRatio ≥ 1, ≥ 2 time frequencies; got \(self)")
        if positionalEmbedding == .sinCos, width % 4 != 0 {
            throw ConfigurationError(field: "DiTConfiguration.width", reason: "DiT: sin-cos positions need a width divisible by 4, got \(width)")
        }
    }
}

/// The Diffusion Transformer (Peebles & Xie 2023) as a `Denoiser` over rows of D = C·H·W values:
///
///     tokens = Dense(patchify(x)) + pos                  x [n, D] → [n, T, W], T = (H/p)(W/p), patch p×p×C
///     c = TimestepEmbedding(time) [+ Embedding(label)]    [n, W]   (label `classCount` = null class)
///     tokens = DiTBlock(tokens, c)  × depth               AdaLN-Zero: gated attention and MLP, gates start at 0
///     (shift, scale) = AdaLNZero₂(c)
///     out = unpatchify(Dense₀(LN(tokens)·(1 + scale) + shift))      [n, T, p²C] → [n, D]
///
/// The final Dense and every modulation layer are zero-initialised, so the network outputs exactly 0 at
/// initialisation. Patchify maps pixel (c, i·p + a, j·p + b) to token i·(W/p) + j, feature (a·p + b)·C + c;
/// `unpatchify` is its exact inverse. Cost per row: O(depth·(T·W² + T²·W)).
public final class DiT<Scalar: BLASScalar>: ModuleBase, Denoiser {
    public let configuration: DiTConfiguration
    public let patchEmbedding: Dense<Scalar>
    /// The learned positional table [1, T, W] (nil for sin-cos positions).
    public let learnedPositions: Variable<Scalar>?
    /// The fixed sin-cos table [1, T, W] (nil for learned positions).
    public let fixedPositions: Tensor<Scalar>?
    public let timeEmbedding: TimestepEmbedding<Scalar>
    public let labelEmbedding: Embedding<Scalar>?
    public let blocks: [DiTBlock<Scalar>]
    public let finalNorm: LayerNorm<Scalar>
    public let finalModulation: AdaLNZero<Scalar>
    public let finalLinear: Dense<Scalar>

    public var dimension: Int { configuration.dimension }
    public var classCount: Int { configuration.classCount }

    /// A network with weights drawn from `g`.
    public init(_ c: DiTConfiguration, using g: inout RandomGenerator) throws {
        try c.validate()
        configuration = c
        patchEmbedding = Dense(c.patchDimension, c.width, initialization: .xavierUniform, using: &g)
        switch c.positionalEmbedding {
        case .sinCos:
            learnedPositions = nil
            fixedPositions = try DiT.sinCosPositions(gridSide: c.gridSide, width: c.width).reshaped([1, c.tokens, c.width])
        case .learned:
            learnedPositions = Variable(Tensor<Scalar>.normal([1, c.tokens, c.width], using: &g) * Scalar(0.02), requiresGrad: true)
            fixedPositions = nil
        }
        timeEmbedding = TimestepEmbedding(dimension: c.width, frequencyDimension: c.timeFrequencies, using: &g)
        labelEmbedding = c.classCount > 0 ? Embedding(count: c.classCount + 1, dimension: c.width, using: &g) : nil
        blocks = (0..<c.depth).map { _ in DiTBlock(dimension: c.width, heads: c.heads, conditionDimension: c.width, mlpRatio: c.mlpRatio, using: &g) }
        finalNorm = LayerNorm(c.width, epsilon: 1e-6, affine: false)
        finalModulation = AdaLNZero(conditionDimension: c.width, dimension: c.width, chunks: 2, using: &g)
        finalLinear = Dense(c.width, c.patchDimension, initialization: .zeros, using: &g)
    }

    /// A network seeded by `seed`.
    public convenience init(_ c: DiTConfiguration, seed: UInt64) throws {
        var g = RandomGenerator(seed: seed)
        try self.init(c, using: &g)
    }

    public var localParameters: [(String, Variable<Scalar>)] {
        learnedPositions.map { [("positions", $0)] } ?? []
    }

    public var children: [(String, any Module<Scalar>)] {
        var out: [(String, any Module<Scalar>)] = [("patch", patchEmbedding), ("time", timeEmbedding)]
        if let l = labelEmbedding { out.append(("label", l)) }
        for (i, b) in blocks.enumerated() { out.append(("blocks.\(i)", b)) }
        out += [("finalNorm", finalNorm), ("finalModulation", finalModulation), ("finalLinear", finalLinear)]
        return out
    }

    public func callAsFunction(_ x: Variable<Scalar>, time: Tensor<Scalar>, labels: [Int]?) throws -> Variable<Scalar> {
        try checkInput(x, time: time, labels: labels)
        let c = configuration
        var h = try patchEmbedding(DiT.patchify(x, configuration: c))
        if let p = learnedPositions { h = try h + p } else if let p = fixedPositions { h = try h + p }
        var cond = try timeEmbedding(Variable(time))
        if let l = labels, let emb = labelEmbedding { cond = try cond + emb(l) }
        for b in blocks { h = try b(h, condition: cond) }
        let m = try finalModulation(cond)
        let out = try finalLinear(AdaLNZero.modulate(finalNorm(h), shift: m[0], scale: m[1]))
        return try DiT.unpatchify(out, configuration: c)
    }

    // MARK: Patches

    /// x [n, C·H·W] → patches [n, T, p²·C] (differentiable; a reshape and one permutation).
    public static func patchify(_ x: Variable<Scalar>, configuration c: DiTConfiguration) throws -> Variable<Scalar> {
        let n = x.shape[0], g = c.gridSide, p = c.patch
        return try x.reshaped([n, c.channels, g, p, g, p]).permuted([0, 2, 4, 3, 5, 1]).reshaped([n, c.tokens, c.patchDimension])
    }

    /// patches [n, T, p²·C] → x [n, C·H·W], the inverse of `patchify`.
    public static func unpatchify(_ t: Variable<Scalar>, configuration c: DiTConfiguration) throws -> Variable<Scalar> {
        let n = t.shape[0], g = c.gridSide, p = c.patch
        return try t.reshaped([n, g, g, p, p, c.channels]).permuted([0, 5, 1, 3, 2, 4]).reshaped([n, c.dimension])
    }

    /// The 2-D sin-cos table [T, W] of DiT/MAE: token (i, j) gets [emb₁(j), emb₁(i)], emb₁(q) = [sin(q·ω), cos(q·ω)]
    /// with ω_k = 10000^(−k/(W/4)), k < W/4.
    public static func sinCosPositions(gridSide g: Int, width w: Int) throws -> Tensor<Scalar> {
        guard w % 4 == 0 else { throw ConfigurationError(field: "DiT.sinCosPositions(width:)", reason: "sin-cos positions: width \(w) is not divisible by 4") }
        let quarter = w / 4
        let omega = (0..<quarter).map { Foundation.pow(10_000, -Double($0) / Double(quarter)) }
        return Tensor<Scalar>(unsafeUninitializedShape: [g * g, w]) { p, _ in
            for i in 0..<g {
                for j in 0..<g {
                    let row = (i * g + j) * w
                    for (half, q) in [(0, Double(j)), (1, Double(i))] {
                        for k in 0..<quarter {
                            p[row + half * 2 * quarter + k] = Scalar(Foundation.sin(q * omega[k]))
                            p[row + half * 2 * quarter + quarter + k] = Scalar(Foundation.cos(q * omega[k]))
                        }
                    }
                }
            }
        }
    }
}
