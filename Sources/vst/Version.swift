import Linear

/// The release of the package and its tool, printed by `vst --version` with the BLAS it runs on.
/// Bump it with every tagged release (semantic versioning: the JSON keys of docs/method.md §10 are the stable API).
enum Version {
    static let number = "0.9.0"
    /// "vst 0.9.0 (Substrate; OpenBLAS … core Haswell)".
    static var description: String { "vst \(number) (Substrate; \(BLAS.configuration), core \(BLAS.coreName))" }
}
