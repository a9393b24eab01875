import Foundation
import Linear

/// The 2-D toy distributions of the flow and diffusion literature, as defined in FFJORD's `toy_data.py`
/// (Grathwohl et al. 2019), drawn i.i.d. from a seeded generator. All have spread of a few units around 0.
public enum Toy2D: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Two interleaved half circles (scikit-learn's `make_moons` with noise 0.1), scaled by 2 and shifted by
    /// (−1, −0.2). Each sample picks a moon with probability ½ and an angle θ ~ U[0, π] (i.i.d., where
    /// scikit-learn spaces the angles evenly): outer (cos θ, sin θ), inner (1 − cos θ, ½ − sin θ).
    case moons
    /// A mixture of eight Gaussians with equal weights, centres 4·(cos kπ/4, sin kπ/4), std 0.5, all divided by 1.414.
    case eightGaussians = "eight-gaussians"
    /// A 4×4 checkerboard on [−4, 4]²: x₁ ~ U[−2, 2), x₂ ~ U[0, 1) − 2b + (⌊x₁⌋ mod 2) with b ∈ {0, 1}, times 2.
    case checkerboard
    /// Two interleaved spirals (FFJORD's "2spirals"): r = √u·3π (u ~ U[0, 1)), (−r·cos r + U[0, ½), r·sin r + U[0, ½)),
    /// negated for the second spiral, divided by 3, plus N(0, 0.1²) noise.
    case spiral

    public var description: String { rawValue }

    /// Parses `moons`, `eight-gaussians` (also `8gaussians`), `checkerboard` or `spiral` (also `2spirals`).
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "moons", "two-moons", "twomoons": self = .moons
        case "eight-gaussians", "8gaussians", "8-gaussians", "eightgaussians": self = .eightGaussians
        case "checkerboard": self = .checkerboard
        case "spiral", "spirals", "2spirals", "two-spirals": self = .spiral
        default: throw ConfigurationError(field: "Toy2D.name", reason: "unknown toy data set '\(name)': expected moons, eight-gaussians, checkerboard or spiral")
        }
    }

    /// `n` samples as an [n, 2] tensor drawn from `generator`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func sample<S: BLASScalar>(_ n: Int, using g: inout RandomGenerator, as _: S.Type = S.self) throws -> Tensor<S> {
        guard n >= 0 else { throw ConfigurationError(field: "Toy2D.sample(_:)", reason: "\(rawValue): the number of samples must be ≥ 0, got \(n)") }
        var out = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n {
            let (a, b) = draw(&g)
            out[2 * i] = a; out[2 * i + 1] = b
        }
        return try Tensor(out.map { S($0) }, shape: [n, 2])
    }

    /// `n` samples as an [n, 2] tensor; the same seed gives the same samples.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func sample<S: BLASScalar>(_ n: Int, seed: UInt64, as _: S.Type = S.self) throws -> Tensor<S> {
        var g = RandomGenerator(seed: seed)
        return try sample(n, using: &g)
    }

    func draw(_ g: inout RandomGenerator) -> (Double, Double) {
        switch self {
        case .moons:
            let theta = g.nextUniform() * Double.pi
            let inner = g.nextUniform() < 0.5
            var x = inner ? 1 - Foundation.cos(theta) : Foundation.cos(theta)
            var y = inner ? 0.5 - Foundation.sin(theta) : Foundation.sin(theta)
            x += 0.1 * g.nextNormal(); y += 0.1 * g.nextNormal()
            return (2 * x - 1, 2 * y - 0.2)
        case .eightGaussians:
            let k = Double(g.nextInt(below: 8))
            let cx = 4 * Foundation.cos(k * Double.pi / 4), cy = 4 * Foundation.sin(k * Double.pi / 4)
            let x = cx + 0.5 * g.nextNormal(), y = cy + 0.5 * g.nextNormal()
            return (x / 1.414, y / 1.414)
        case .checkerboard:
            let x1 = g.nextUniform() * 4 - 2
            let b = Double(g.nextInt(below: 2))
            let parity = (Foundation.floor(x1).truncatingRemainder(dividingBy: 2) + 2).truncatingRemainder(dividingBy: 2)
            let x2 = g.nextUniform() - 2 * b + parity
            return (2 * x1, 2 * x2)
        case .spiral:
            let r = g.nextUniform().squareRoot() * 540 * (2 * Double.pi) / 360
            let sign: Double = g.nextUniform() < 0.5 ? 1 : -1
            let x = -Foundation.cos(r) * r + 0.5 * g.nextUniform()
            let y = Foundation.sin(r) * r + 0.5 * g.nextUniform()
            return (sign * x / 3 + 0.1 * g.nextNormal(), sign * y / 3 + 0.1 * g.nextNormal())
        }
    }
}
