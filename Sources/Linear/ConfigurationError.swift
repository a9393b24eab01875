/// A setting (a command-line option, an options or configuration field, a constructor parameter) whose value cannot
/// be used, alone or with these inputs, e.g. `--rank: 40 exceeds the dimension D = 24` or
/// `MLPDenoiser.width: must be ≥ 1, got 0`.
///
/// It lives in Linear, the module every other one builds on, so that a configuration problem found in Neural,
/// Generative, Substrate or the command line is the same type and the command line maps it to one exit status. `field` is the option or field name as the user wrote it (`--rank`), or
/// `Type.property` for a value set from Swift.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The option or field, e.g. `--rank` or `ProjectionOptions.k`.
    public var field: String
    /// What is wrong with its value.
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
