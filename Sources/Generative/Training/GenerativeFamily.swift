import Foundation
import Linear
import Neural

/// The family names of the command line.
public enum FamilyName: String, Sendable, CaseIterable {
    case ddpm
    case scoreSDE = "score-sde"
    case flowMatching = "flow-matching"

    /// Parses `ddpm`, `score-sde` or `flow-matching`; families not built yet (`consistency`, `dit`) are named in the error.
    public init(parsing name: String) throws {
        guard let f = FamilyName(rawValue: name.lowercased()) else {
            throw TensorError.invalidArgument("unknown or unavailable family '\(name)': expected ddpm, score-sde or flow-matching (consistency and dit are not implemented yet)")
        }
        self = f
    }

    /// The family's default sampler and step count.
    public var defaultSampler: (name: String, steps: Int) {
        switch self {
        case .ddpm: return ("ddim", 100)
        case .scoreSDE: return ("euler-maruyama", 500)
        case .flowMatching: return ("rk4", 20)
        }
    }
}

/// What the training loop needs from a family: its network and a stochastic loss on a batch.
public protocol TrainableFamily<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    var denoiser: any Denoiser<Scalar> { get }
    /// The family's name on the command line.
    var familyName: FamilyName { get }
    /// The family's configuration as string metadata (read back by `GenerativeModelFile`).
    var configurationMetadata: [String: String] { get }
    /// A stochastic loss on a batch of data in model units, drawing its randomness from `g`.
    func loss(x0: Tensor<Scalar>, labels: [Int]?, using g: inout RandomGenerator) throws -> Variable<Scalar>
}

extension DDPM: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .ddpm }
    public var configurationMetadata: [String: String] {
        var m = ["beta_schedule": encode(configuration.betaSchedule), "timesteps": String(configuration.timesteps),
                 "target": configuration.target.rawValue, "variance": configuration.variance.rawValue]
        if let c = configuration.clipSample { m["clip_sample"] = String(c) }
        return m
    }
}

extension FlowMatching: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .flowMatching }
    public var configurationMetadata: [String: String] {
        ["sigma_min": String(configuration.sigmaMin), "pairing": configuration.pairing.rawValue]
    }
}

extension ScoreSDEModel: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .scoreSDE }
    public var configurationMetadata: [String: String] {
        let (a, b): (Double, Double)
        switch configuration.sde { case let .vp(x, y), let .subVP(x, y), let .ve(x, y): (a, b) = (x, y) }
        return ["sde": configuration.sde.name, "sde_p1": String(a), "sde_p2": String(b), "weighting": configuration.weighting.rawValue,
                "snr": String(configuration.snr), "corrector_steps": String(configuration.correctorSteps)]
    }
}

/// `name:p1:p2` for a beta schedule.
func encode(_ b: BetaSchedule) -> String {
    switch b {
    case let .linear(x, y), let .scaledLinear(x, y), let .cosine(x, y): return "\(b.name):\(x):\(y)"
    }
}

func decodeBetaSchedule(_ s: String) throws -> BetaSchedule {
    let p = s.split(separator: ":").map(String.init)
    guard p.count == 3, let x = Double(p[1]), let y = Double(p[2]) else { throw TensorError.invalidArgument("bad beta schedule '\(s)' in model file") }
    switch p[0] {
    case "linear": return .linear(start: x, end: y)
    case "scaled-linear": return .scaledLinear(start: x, end: y)
    case "cosine": return .cosine(offset: x, maxBeta: y)
    default: throw TensorError.invalidArgument("bad beta schedule '\(s)' in model file")
    }
}
