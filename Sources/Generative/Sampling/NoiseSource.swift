import Linear

/// Which use a piece of noise serves, so different uses never share random numbers.
public struct NoiseStream: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The starting point x_T ~ prior.
    public static let prior = NoiseStream(rawValue: 1)
    /// The noise a stochastic sampler adds at each step (ancestral, DDIM η > 0, Euler–Maruyama).
    public static let sampler = NoiseStream(rawValue: 2)
    /// The noise of a corrector (Langevin steps of predictor–corrector sampling).
    public static let corrector = NoiseStream(rawValue: 3)
    /// Noise drawn during training (ε of the forward process, times, pairings).
    public static let training = NoiseStream(rawValue: 4)
    public var description: String {
        switch rawValue {
        case 1: return "prior"; case 2: return "sampler"; case 3: return "corrector"; case 4: return "training"
        default: return "stream \(rawValue)"
        }
    }
}

/// A source of the Gaussian (and uniform) noise a sampler consumes, injected so that runs can be compared.
///
/// The contract: row `i` of a request (the first axis) is the noise of *sample* `firstRow + i`, and depends only
/// on (source, sample index, step, stream) — not on the batch size, on how the samples were split into batches,
/// or on what was drawn before. So sampling 1 000 points in batches of 100 or of 1 000 gives identical results,
/// and a 50-step and a 100-step run start from the same x_T.
public protocol NoiseSource: Sendable {
    /// Standard normal noise of `shape`; row i is that of sample `firstRow + i` at `step` in `stream`.
    func normal<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S>
    /// Uniform noise in [0, 1) of `shape`, with the same contract as `normal`.
    func uniform<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S>
}

extension NoiseSource {
    /// Standard normal noise for step `step` of the sampler stream, rows numbered from `firstRow`.
    public func normal<S: BLASScalar>(_ shape: [Int], step: Int, firstRow: Int = 0, as _: S.Type = S.self) -> Tensor<S> {
        normal(shape, step: step, stream: .sampler, firstRow: firstRow)
    }

    /// The prior sample x_T ~ N(0, std²·I) of `shape`, rows numbered from `firstRow` (stream `.prior`, step 0).
    public func prior<S: BLASScalar>(_ shape: [Int], std: Double = 1, firstRow: Int = 0, as _: S.Type = S.self) -> Tensor<S> {
        let z: Tensor<S> = normal(shape, step: 0, stream: .prior, firstRow: firstRow)
        return std == 1 ? z : z * S(std)
    }
}

/// The standard `NoiseSource`: counter-based noise from a seed. Sample i at step s in stream c draws from its own
/// `RandomGenerator` seeded by a SplitMix64 hash of (seed, c, s, i), so any entry can be produced on its own.
public struct SeededNoise: NoiseSource, Equatable {
    /// The run's seed.
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The generator of sample `row` at `step` in `stream` (for draws that are not plain tensors).
    public func generator(row: Int, step: Int, stream: NoiseStream = .sampler) -> RandomGenerator {
        var h = SeededNoise.mix(seed ^ 0x5EED_0F_5A_4D_9E_0001)
        h = SeededNoise.mix(h ^ stream.rawValue)
        h = SeededNoise.mix(h ^ UInt64(bitPattern: Int64(step)))
        h = SeededNoise.mix(h ^ UInt64(bitPattern: Int64(row)))
        return RandomGenerator(seed: h)
    }

    /// The SplitMix64 finaliser (a bijection of 64-bit words with full avalanche).
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func normal<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S> {
        fill(shape, step: step, stream: stream, firstRow: firstRow) { g in S(g.nextNormal()) }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func uniform<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S> {
        fill(shape, step: step, stream: stream, firstRow: firstRow) { g in
            // Round down so that Float never rounds a value just below 1 up to 1.
            let u = S(g.nextUniform())
            return u < 1 ? u : S(1).nextDown
        }
    }

    func fill<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int, _ draw: (inout RandomGenerator) -> S) -> Tensor<S> {
        precondition(shape.allSatisfy { $0 >= 0 }, "SeededNoise: invalid shape \(shape)")
        let rows = shape.first ?? 1
        let inner = shape.isEmpty ? 1 : shape.dropFirst().reduce(1, *)
        return Tensor(unsafeUninitializedShape: shape) { p, _ in
            for r in 0..<rows {
                var g = generator(row: firstRow + r, step: step, stream: stream)
                let o = r &* inner
                for j in 0..<inner { p[o &+ j] = draw(&g) }
            }
        }
    }
}

/// A `NoiseSource` that returns zeros (normal) and ½ (uniform): turns every stochastic sampler into its mean path,
/// for tests and for isolating the deterministic part of a sampler.
public struct ZeroNoise: NoiseSource {
    public init() {}
    public func normal<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S> { .zeros(shape) }
    public func uniform<S: BLASScalar>(_ shape: [Int], step: Int, stream: NoiseStream, firstRow: Int) -> Tensor<S> { .full(shape, S(0.5)) }
}
