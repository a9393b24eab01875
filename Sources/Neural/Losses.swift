import Linear

/// How a loss reduces its per-element values.
public enum LossReduction: Sendable {
    /// The mean over all elements (PyTorch's default).
    case mean
    /// The sum over all elements.
    case sum
    /// No reduction: the per-element values.
    case none
}

/// Loss functions. Each is built from differentiable operations, so it has first- and second-order gradients.
public enum Loss {
    static func reduce<S>(_ x: Variable<S>, _ r: LossReduction) -> Variable<S> {
        switch r {
        case .mean: return x.mean()
        case .sum: return x.sum()
        case .none: return x
        }
    }

    static func checkSame<S>(_ a: Variable<S>, _ b: Variable<S>, _ name: String) throws {
        guard a.shape == b.shape else { throw TensorError.shapeMismatch(operation: name, lhs: a.shape, rhs: b.shape) }
    }

    /// Mean squared error (p − t)².
    public static func mse<S>(_ prediction: Variable<S>, _ target: Variable<S>, reduction: LossReduction = .mean) throws -> Variable<S> {
        try checkSame(prediction, target, "mse")
        return reduce(try (prediction - target).square(), reduction)
    }

    /// Mean absolute error |p − t|.
    public static func l1<S>(_ prediction: Variable<S>, _ target: Variable<S>, reduction: LossReduction = .mean) throws -> Variable<S> {
        try checkSame(prediction, target, "l1")
        return reduce(try (prediction - target).abs(), reduction)
    }

    /// Huber loss with threshold δ: ½d² for |d| < δ, δ(|d| − ½δ) otherwise, d = p − t (PyTorch `huber_loss`).
    public static func huber<S>(_ prediction: Variable<S>, _ target: Variable<S>, delta: S = 1,
                                reduction: LossReduction = .mean) throws -> Variable<S> {
        try checkSame(prediction, target, "huber")
        let d = try prediction - target
        let a = d.abs()
        let inside = AutogradKernels.lessThan(a.value, delta)
        let outside = AutogradKernels.rsubScalar(1, inside)
        let quadratic = try d.square() * 0.5 * inside
        let linearPart = try (a - delta / 2) * delta * outside
        return reduce(try quadratic + linearPart, reduction)
    }

    /// Binary cross-entropy from logits x and targets t ∈ [0, 1]: softplus(x) − x·t, stable for large |x|.
    public static func binaryCrossEntropyWithLogits<S>(_ logits: Variable<S>, _ target: Variable<S>,
                                                      reduction: LossReduction = .mean) throws -> Variable<S> {
        try checkSame(logits, target, "binaryCrossEntropyWithLogits")
        return reduce(try logits.softplus() - logits * target, reduction)
    }

    /// Cross-entropy of logits [n, classes] against integer labels: −log softmax(x)[label], averaged over rows
    /// (or summed, or per row).
    public static func crossEntropy<S>(_ logits: Variable<S>, labels: [Int], reduction: LossReduction = .mean) throws -> Variable<S> {
        guard logits.rank == 2, logits.shape[0] == labels.count else {
            throw TensorError.invalidShape("crossEntropy: expected logits [n, classes] and n labels, got shape \(logits.shape) and \(labels.count) labels")
        }
        return reduce(-(try logits.logSoftmax(axis: 1).pick(labels)), reduction)
    }

    /// KL(N(μ, e^{logσ²}) ‖ N(0, 1)) = ½ Σ_features (μ² + σ² − 1 − log σ²), for μ, log σ² of shape [n, d]:
    /// summed over the features, then averaged over the batch (`.mean`), summed (`.sum`) or per row (`.none`).
    public static func gaussianKL<S>(mean mu: Variable<S>, logVariance logvar: Variable<S>,
                                     reduction: LossReduction = .mean) throws -> Variable<S> {
        try checkSame(mu, logvar, "gaussianKL")
        let perElement = try (mu.square() + logvar.exp() - logvar - 1) * 0.5
        let perRow = mu.rank >= 2 ? try perElement.sum(axis: -1) : perElement.sum()
        return reduce(perRow, reduction)
    }

    /// Negative log-likelihood of x under N(μ, e^{logσ²}): ½(log 2π + log σ² + (x − μ)²/σ²) per element.
    public static func gaussianNLL<S>(_ x: Variable<S>, mean mu: Variable<S>, logVariance logvar: Variable<S>,
                                      reduction: LossReduction = .mean) throws -> Variable<S> {
        try checkSame(x, mu, "gaussianNLL")
        let d2 = try (x - mu).square()
        let perElement = try (logvar + d2 * (-logvar).exp() + S(1.8378770664093453)) * 0.5
        return reduce(perElement, reduction)
    }
}
