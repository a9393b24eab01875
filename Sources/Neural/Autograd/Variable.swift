import Linear

/// A differentiable tensor: a value, an optional accumulated gradient, and (for results of operations) the
/// inputs and backward rule that produced it.
///
/// Operations on variables (`+`, `matmul`, `silu`, `softmax`, …) compute their value at once (eager, like
/// PyTorch) and, while `GradMode.isEnabled` and some input `requiresGrad`, remember their inputs and a backward
/// rule. The rules are written with `Variable` operations themselves, so the gradient returned by
/// `gradients(of:wrt:createGraph: true)` can be differentiated again.
///
/// A variable is a reference: parameters are shared between a model, its optimiser and checkpoints, and
/// `grad` accumulates across `backward()` calls until `zeroGrad()`. The graph lives as long as the result
/// variables that reference it; backward may run over it several times (as with `retain_graph=True`).
public final class Variable<Scalar: BLASScalar>: CustomStringConvertible {
    /// A backward rule: given the gradient of the output, the gradients of the inputs (nil where not needed).
    typealias Rule = (Variable<Scalar>) throws -> [Variable<Scalar>?]

    /// The current value. Optimisers assign to it; assigning keeps the graph of earlier results unchanged.
    public var value: Tensor<Scalar>
    /// The gradient accumulated by `backward()` (leaves that require gradients only), or nil.
    public var grad: Tensor<Scalar>?
    /// Whether gradients flow to this variable. Settable on leaves; results of recorded operations always require them.
    public var requiresGrad: Bool {
        didSet { precondition(rule == nil || requiresGrad, "Variable: cannot stop a recorded result from requiring gradients; use detached()") }
    }
    /// An optional name, shown in descriptions and error messages.
    public var name: String?
    /// The operation that produced this variable ("leaf" for leaves).
    public let operation: String
    /// The inputs of the operation (empty for leaves).
    let inputs: [Variable<Scalar>]
    /// The backward rule (nil for leaves).
    let rule: Rule?

    /// A leaf holding `value`; set `requiresGrad` for parameters and inputs you differentiate with respect to.
    public init(_ value: Tensor<Scalar>, requiresGrad: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
        self.operation = "leaf"
        self.inputs = []
        self.rule = nil
    }

    /// A rank-0 constant.
    public convenience init(scalar: Scalar, requiresGrad: Bool = false) {
        self.init(Tensor(scalar: scalar), requiresGrad: requiresGrad)
    }

    init(value: Tensor<Scalar>, operation: String, inputs: [Variable<Scalar>], rule: @escaping Rule) {
        self.value = value
        self.requiresGrad = true
        self.name = nil
        self.operation = operation
        self.inputs = inputs
        self.rule = rule
    }

    /// The result of an operation: recorded with its inputs and rule when grad mode is on and an input requires
    /// gradients, otherwise a plain constant.
    static func make(_ operation: String, _ value: Tensor<Scalar>, _ inputs: [Variable<Scalar>], _ rule: @escaping Rule) -> Variable<Scalar> {
        var needs = false
        for v in inputs where v.requiresGrad { needs = true; break }
        if needs && GradMode.isEnabled { return Variable(value: value, operation: operation, inputs: inputs, rule: rule) }
        return Variable(value)
    }

    /// Whether backward rules should produce this input's gradient: it requires gradients and, in a backward
    /// pass for chosen targets, leads to one of them.
    var needsGradient: Bool {
        guard requiresGrad else { return false }
        guard let needed = Autograd.needed else { return true }
        return needed.contains(ObjectIdentifier(self))
    }

    /// A constant in the same precision (for masks and fixed operands inside rules).
    static func constant(_ t: Tensor<Scalar>) -> Variable<Scalar> { Variable(t) }

    // MARK: Properties

    /// The value's shape.
    public var shape: [Int] { value.shape }
    /// Number of axes.
    public var rank: Int { value.rank }
    /// Number of elements.
    public var count: Int { value.count }
    /// The single element of a one-element variable.
    public var scalar: Scalar { value.scalar }
    /// True for variables not produced by a recorded operation.
    public var isLeaf: Bool { rule == nil }

    /// A new leaf with the same value and no graph (PyTorch `detach()`): gradients stop here.
    public func detached() -> Variable<Scalar> { Variable(value) }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    public var description: String {
        let what = name.map { "'\($0)' " } ?? ""
        return "Variable \(what)(\(operation), requiresGrad: \(requiresGrad)) \(value)"
    }
}

extension Variable {
    /// Throws unless this variable has `expected` shape; `context` names the operation.
    func expectShape(_ expected: [Int], _ context: String) throws {
        guard shape == expected else { throw TensorError.shapeMismatch(operation: context, lhs: shape, rhs: expected) }
    }
}

extension Variable {
    /// A custom differentiable operation: `value` computed by the caller from `inputs`, and `backward` mapping
    /// the output's gradient to one gradient per input (nil where none is needed; each must have its input's
    /// shape). Write `backward` with `Variable` operations to keep gradients of gradients correct; it runs
    /// with recording off unless a graph of the backward pass was requested.
    public static func custom(_ name: String, value: Tensor<Scalar>, inputs: [Variable<Scalar>],
                                 backward: @escaping (Variable<Scalar>) throws -> [Variable<Scalar>?]) -> Variable<Scalar> {
        make(name, value, inputs, backward)
    }
}
