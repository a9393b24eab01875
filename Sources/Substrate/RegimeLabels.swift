/// Regime labels print as the CLI and the JSON write them ("R1", "A2", "S3"), not as Swift case names ("r1"), so
/// `print(report.regime)` from Swift and `vst regimes` agree.
extension Regime: CustomStringConvertible {
    public var description: String { rawValue }
}

extension AlignmentRegime: CustomStringConvertible {
    public var description: String { rawValue }
}

extension ScalingRegime: CustomStringConvertible {
    public var description: String { rawValue }
}
