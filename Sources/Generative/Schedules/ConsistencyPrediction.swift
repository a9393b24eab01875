import Linear

/// What the network F_θ of a consistency model predicts (`ConsistencySchedule`).
public enum ConsistencyPrediction: String, Sendable, Codable, CaseIterable {
    /// The EDM skip parameterisation of Song et al. (2023): f = c_skip(σ)·x + c_out(σ)·F with σ_data in both.
    case edm
    /// The clean data: f = c_skip(σ)·x + (1 − c_skip(σ))·F with c_skip(σ) = σ_min²/((σ − σ_min)² + σ_min²), so F ≈ x̂₀
    /// above the boundary (low-rank for data on a manifold; Li & He 2025).
    case data

    /// `edm` (also `paper`) or `data` (also `x0`).
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "edm", "paper": self = .edm
        case "data", "x0": self = .data
        default: throw ConfigurationError(field: "ConsistencyPrediction.name", reason: "unknown consistency prediction '\(name)': expected data or edm")
        }
    }
}
