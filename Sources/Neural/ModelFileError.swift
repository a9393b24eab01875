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

/// Saved state that does not fit the model it is loaded into: parameters (`Module.loadStateDict`), buffers (an EMA
/// of the weights, a consistency model's target network, a VQ-VAE's prior codes), an optimiser's moments
/// (`Adam.load(state:)`) or the metadata describing a network, whose names, shapes or counts differ from the
/// model's. The state came from memory, not from a named file; the model-file loaders catch it and rethrow it as a
/// `ModelFileError` naming the file, with `reason` as its reason.
///
/// The message says what does not fit, e.g. `EMA weight 'net.0.weight' has shape [4, 2], expected [8, 2]`.
public struct ModelStateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What does not fit, in words.
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
