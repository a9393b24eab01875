import Linear

/// What a sampler returns: the samples (model units) and what they cost.
public struct SamplingResult<S: BLASScalar>: Sendable {
    /// The final states [n, D].
    public var samples: Tensor<S>
    /// Network evaluations per batch (each evaluates the denoiser once on the whole batch).
    public var evaluations: Int
    /// Sampler steps taken (for adaptive ODE solvers: accepted steps).
    public var steps: Int

    public init(samples: Tensor<S>, evaluations: Int, steps: Int) {
        self.samples = samples; self.evaluations = evaluations; self.steps = steps
    }
}

/// One step of a discrete sampler: the next state and the model's current x₀ estimate.
public struct SamplerStep<S: BLASScalar>: Sendable {
    public var next: Tensor<S>
    public var x0: Tensor<S>
    public init(next: Tensor<S>, x0: Tensor<S>) { self.next = next; self.x0 = x0 }
}

/// The continuous network time handed to denoisers: 1000·t for t ∈ [0, 1] (see `Denoiser`).
@inline(__always) func embeddingTime(_ t: Double) -> Double { 1000 * t }
