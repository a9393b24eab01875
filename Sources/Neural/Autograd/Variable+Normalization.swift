import Linear

// Normalisation over the last axis, with a hand-derived fused backward for first-order training and a
// differentiable composite backward when a graph of the backward pass is requested.

extension Variable {
    /// Layer normalisation over the last axis: y = (x − μ)/√(σ² + ε)·γ + β, with μ, σ² the mean and biased
    /// variance of each row (PyTorch `layer_norm`). γ and β ([d]) are optional.
    ///
    /// Backward (x̂ the normalised input, r = 1/√(σ² + ε), ĝ = g·γ):
    /// ∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)), ∂γ = Σ_rows g⊙x̂, ∂β = Σ_rows g.
    public func layerNorm(weight: Variable? = nil, bias: Variable? = nil, epsilon: Scalar = 1e-5) throws -> Variable {
        let d = shape.last ?? 0
        if let weight { try weight.expectShape([d], "layerNorm (weight must be [\(d)])") }
        if let bias { try bias.expectShape([d], "layerNorm (bias must be [\(d)])") }
        let r = AutogradKernels.layerNorm(value, weight?.value, bias?.value, eps: epsilon)
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return Variable.make("layerNorm", r.y, inputs) { g in
            if GradMode.isEnabled {
                // Composite: the same formulas from differentiable operations.
                let mu = try self.mean(axis: -1, keepDims: true)
                let xc = try self - mu
                let rstd = (try xc.square().mean(axis: -1, keepDims: true) + epsilon).rsqrt()
                let xhat = try xc * rstd
                let gh = try weight.map { try g * $0 } ?? g
                let m1 = try gh.mean(axis: -1, keepDims: true)
                let m2 = try (gh * xhat).mean(axis: -1, keepDims: true)
                let dx = try rstd * (gh - m1 - xhat * m2)
                var out: [Variable?] = [self.needsGradient ? dx : nil]
                if let weight { out.append(weight.needsGradient ? try (g * xhat).sum(toShape: [d]) : nil) }
                if let bias { out.append(bias.needsGradient ? try g.sum(toShape: [d]) : nil) }
                return out
            }
            let b = AutogradKernels.layerNormBackward(g.value, r.xhat, r.rstd, weight?.value,
                                              needGamma: weight?.needsGradient ?? false, needBeta: bias?.needsGradient ?? false)
            var out: [Variable?] = [Variable(b.dx)]
            if weight != nil { out.append(b.dgamma.map { Variable($0) }) }
            if bias != nil { out.append(b.dbeta.map { Variable($0) }) }
            return out
        }
    }

    /// RMS normalisation over the last axis: y = x/√(mean(x²) + ε)·γ (Zhang & Sennrich 2019).
    public func rmsNorm(weight: Variable? = nil, epsilon: Scalar = 1e-6) throws -> Variable {
        let r = (try square().mean(axis: -1, keepDims: true) + epsilon).rsqrt()
        let y = try self * r
        return try weight.map { try y * $0 } ?? y
    }

    /// Group normalisation of [n, c, …] over `groups` groups of c/groups channels and all spatial positions,
    /// then a per-channel affine map with γ, β of shape [c] (PyTorch `group_norm`).
    public func groupNorm(groups: Int, weight: Variable? = nil, bias: Variable? = nil, epsilon: Scalar = 1e-5) throws -> Variable {
        guard rank >= 2, groups > 0, shape[1] % groups == 0 else {
            throw ConfigurationError(field: "Variable.groupNorm(groups:)", reason: "groupNorm: \(groups) groups do not divide the \(rank >= 2 ? shape[1] : 0) channels of shape \(shape)")
        }
        let n = shape[0], c = shape[1]
        let normed = try reshaped([n, groups, -1]).layerNorm(epsilon: epsilon).reshaped(shape)
        var affineShape = [Int](repeating: 1, count: rank)
        affineShape[1] = c
        var y = normed
        if let weight { try weight.expectShape([c], "groupNorm (weight must be [\(c)])"); y = try y * weight.reshaped(affineShape) }
        if let bias { try bias.expectShape([c], "groupNorm (bias must be [\(c)])"); y = try y + bias.reshaped(affineShape) }
        return y
    }
}
