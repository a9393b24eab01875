import Linear

// Element-wise arithmetic with numpy broadcasting. The gradient of a broadcast operand is summed back to its
// own shape (`sumTo`), so [n, d] + [d] gives the bias its column sums.

extension Variable {
    /// a + b (broadcasting). ∂/∂a = g, ∂/∂b = g, each summed to its operand's shape.
    public static func + (a: Variable, b: Variable) throws -> Variable {
        make("add", try AutogradKernels.add(a.value, b.value), [a, b]) { g in
            [a.needsGradient ? try g.sum(toShape: a.shape) : nil, b.needsGradient ? try g.sum(toShape: b.shape) : nil]
        }
    }

    /// a − b (broadcasting). ∂/∂a = g, ∂/∂b = −g.
    public static func - (a: Variable, b: Variable) throws -> Variable {
        make("subtract", try AutogradKernels.sub(a.value, b.value), [a, b]) { g in
            [a.needsGradient ? try g.sum(toShape: a.shape) : nil, b.needsGradient ? try (-g).sum(toShape: b.shape) : nil]
        }
    }

    /// a ⊙ b (broadcasting). ∂/∂a = g⊙b, ∂/∂b = g⊙a.
    public static func * (a: Variable, b: Variable) throws -> Variable {
        make("multiply", try AutogradKernels.mul(a.value, b.value), [a, b]) { g in
            [a.needsGradient ? try (g * b).sum(toShape: a.shape) : nil, b.needsGradient ? try (g * a).sum(toShape: b.shape) : nil]
        }
    }

    /// a / b (broadcasting). ∂/∂a = g/b, ∂/∂b = −g·a/b².
    public static func / (a: Variable, b: Variable) throws -> Variable {
        make("divide", try AutogradKernels.div(a.value, b.value), [a, b]) { g in
            [a.needsGradient ? try (g / b).sum(toShape: a.shape) : nil,
             b.needsGradient ? try (-(g * a) / (b * b)).sum(toShape: b.shape) : nil]
        }
    }

    /// −x.
    public static prefix func - (x: Variable) -> Variable {
        make("negate", AutogradKernels.unary(.neg, x.value), [x]) { g in [-g] }
    }

    /// x + s.
    public static func + (x: Variable, s: Scalar) -> Variable {
        make("addScalar", AutogradKernels.addScalar(x.value, s), [x]) { g in [g] }
    }
    /// s + x.
    public static func + (s: Scalar, x: Variable) -> Variable { x + s }
    /// x − s.
    public static func - (x: Variable, s: Scalar) -> Variable { x + (-s) }
    /// s − x.
    public static func - (s: Scalar, x: Variable) -> Variable {
        make("rsubScalar", AutogradKernels.rsubScalar(s, x.value), [x]) { g in [-g] }
    }
    /// x·s.
    public static func * (x: Variable, s: Scalar) -> Variable {
        make("mulScalar", AutogradKernels.mulScalar(x.value, s), [x]) { g in [g * s] }
    }
    /// s·x.
    public static func * (s: Scalar, x: Variable) -> Variable { x * s }
    /// x / s.
    public static func / (x: Variable, s: Scalar) -> Variable { x * (1 / s) }
    /// s / x. ∂/∂x = −s·g/x².
    public static func / (s: Scalar, x: Variable) -> Variable {
        make("rdivScalar", AutogradKernels.rdivScalar(s, x.value), [x]) { g in [try -(g * s) / x.square()] }
    }

    /// Tensor operands as constants.
    public static func + (a: Variable, b: Tensor<Scalar>) throws -> Variable { try a + Variable(b) }
    public static func - (a: Variable, b: Tensor<Scalar>) throws -> Variable { try a - Variable(b) }
    public static func * (a: Variable, b: Tensor<Scalar>) throws -> Variable { try a * Variable(b) }
    public static func / (a: Variable, b: Tensor<Scalar>) throws -> Variable { try a / Variable(b) }
}
