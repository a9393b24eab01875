import Linear

// Element-wise functions and activations. First-order backward passes use fused kernels (one pass, no graph);
// when a graph of the backward pass is requested (`createGraph`), the same derivative is built from
// differentiable operations instead, so it can be differentiated again.

extension Variable {
    /// eˣ. ∂ = g·eˣ.
    public func exp() -> Variable {
        let y = AutogradKernels.unary(.exp, value)
        return Variable.make("exp", y, [self]) { g in
            if GradMode.isEnabled { return [try g * self.exp()] }
            return [Variable(try AutogradKernels.mul(g.value, y))]
        }
    }

    /// ln x. ∂ = g/x.
    public func log() -> Variable {
        Variable.make("log", AutogradKernels.unary(.log, value), [self]) { g in [try g / self] }
    }

    /// √x. ∂ = g/(2√x).
    public func sqrt() -> Variable {
        let y = AutogradKernels.unary(.sqrt, value)
        return Variable.make("sqrt", y, [self]) { g in
            if GradMode.isEnabled { return [try g / (self.sqrt() * 2)] }
            return [Variable(try AutogradKernels.div(AutogradKernels.mulScalar(g.value, 0.5), y))]
        }
    }

    /// 1/√x. ∂ = −g/(2 x√x).
    public func rsqrt() -> Variable {
        Variable.make("rsqrt", AutogradKernels.unary(.rsqrt, value), [self]) { g in [try g * self.pow(-1.5) * (-0.5)] }
    }

    /// x². ∂ = 2gx.
    public func square() -> Variable {
        Variable.make("square", AutogradKernels.unary(.square, value), [self]) { g in [try g * self * 2] }
    }

    /// xᵖ for a constant p. ∂ = g·p·xᵖ⁻¹.
    public func pow(_ p: Scalar) -> Variable {
        if p == 1 { return self }
        return Variable.make("pow", AutogradKernels.pow(value, p), [self]) { g in
            if p == 2 { return [try g * self * 2] }
            return [try g * self.pow(p - 1) * p]
        }
    }

    /// |x|. ∂ = g·sign(x) (0 at 0).
    public func abs() -> Variable {
        Variable.make("abs", AutogradKernels.unary(.abs, value), [self]) { g in [try g * AutogradKernels.unary(.sign, self.value)] }
    }

    /// sin x. ∂ = g·cos x.
    public func sin() -> Variable {
        Variable.make("sin", AutogradKernels.unary(.sin, value), [self]) { g in [try g * self.cos()] }
    }

    /// cos x. ∂ = −g·sin x.
    public func cos() -> Variable {
        Variable.make("cos", AutogradKernels.unary(.cos, value), [self]) { g in [try -(g * self.sin())] }
    }

    /// ln(1 + x). ∂ = g/(1 + x).
    public func log1p() -> Variable {
        Variable.make("log1p", AutogradKernels.unary(.log1p, value), [self]) { g in [try g / (self + 1)] }
    }

    /// eˣ − 1. ∂ = g·eˣ.
    public func expm1() -> Variable {
        Variable.make("expm1", AutogradKernels.unary(.expm1, value), [self]) { g in [try g * self.exp()] }
    }

    /// tanh x. ∂ = g(1 − tanh²x).
    public func tanh() -> Variable {
        let y = AutogradKernels.unary(.tanh, value)
        return Variable.make("tanh", y, [self]) { g in
            if GradMode.isEnabled { return [try g * (1 - self.tanh().square())] }
            return [Variable(AutogradKernels.tanhBackward(y, g.value))]
        }
    }

    /// σ(x) = 1/(1 + e⁻ˣ). ∂ = g·σ(1 − σ).
    public func sigmoid() -> Variable {
        let y = AutogradKernels.unary(.sigmoid, value)
        return Variable.make("sigmoid", y, [self]) { g in
            if GradMode.isEnabled { let s = self.sigmoid(); return [try g * s * (1 - s)] }
            return [Variable(AutogradKernels.sigmoidBackward(y, g.value))]
        }
    }

    /// max(x, 0). ∂ = g·[x > 0].
    public func relu() -> Variable {
        Variable.make("relu", AutogradKernels.unary(.relu, value), [self]) { g in [try g * AutogradKernels.unary(.step, self.value)] }
    }

    /// Leaky ReLU: x for x > 0, αx otherwise. ∂ = g·(α + (1 − α)[x > 0]).
    public func leakyRelu(_ alpha: Scalar = 0.01) throws -> Variable {
        let slope = AutogradKernels.addScalar(AutogradKernels.mulScalar(AutogradKernels.unary(.step, value), 1 - alpha), alpha)
        return try self * slope
    }

    /// x·σ(x) (SiLU, swish). ∂ = g·σ(x)(1 + x(1 − σ(x))).
    public func silu() -> Variable {
        Variable.make("silu", AutogradKernels.unary(.silu, value), [self]) { g in
            if GradMode.isEnabled {
                let s = self.sigmoid()
                return [try g * s * (self * (1 - s) + 1)]
            }
            return [Variable(try AutogradKernels.siluBackward(self.value, g.value))]
        }
    }

    /// GELU (tanh form) x·σ(u), u = 2√(2/π)(x + 0.044715x³). ∂ = g·(σ(u) + x·σ(u)(1 − σ(u))·u′).
    public func gelu() -> Variable {
        Variable.make("gelu", AutogradKernels.unary(.gelu, value), [self]) { g in
            if GradMode.isEnabled {
                let c2 = Scalar(2 * 0.7978845608028654), a = Scalar(0.044715)
                let x2 = self.square()
                let u = try (self + self * x2 * a) * c2
                let s = u.sigmoid()
                let du = (x2 * (3 * a) + 1) * c2
                return [try g * (s + self * s * (1 - s) * du)]
            }
            return [Variable(try AutogradKernels.geluBackward(self.value, g.value))]
        }
    }

    /// ln(1 + eˣ), stable for large |x|. ∂ = g·σ(x).
    public func softplus() -> Variable {
        Variable.make("softplus", AutogradKernels.unary(.softplus, value), [self]) { g in [try g * self.sigmoid()] }
    }

    /// Limits values to [low, high]. ∂ = g inside the interval, 0 outside.
    public func clamp(min low: Scalar = -.infinity, max high: Scalar = .infinity) -> Variable {
        Variable.make("clamp", AutogradKernels.clamp(value, low, high), [self]) { g in
            [try g * AutogradKernels.insideMask(self.value, low, high)]
        }
    }
}
