import Linear

/// A model file (`.safetensors` with a model's configuration in its metadata) that cannot be used: it belongs to
/// another model, lacks a tensor or a metadata key, or holds values that contradict each other. The file itself
/// was readable (a missing or corrupt file is a `TensorError.file` from the safetensors reader).
///
/// The message names the file and what is wrong, e.g.
/// `m.safetensors: optimiser moment 'optimizer.main.m.net.0.weight' is missing`.
public struct ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, as the caller named it.
    public var path: String
    /// What is wrong with it, in words.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
