import Linear

// Reverse-mode differentiation over the recorded graph.
//
// The graph is walked once from the output in reverse topological order (a depth-first post-order, reversed),
// so each node's rule runs after every consumer has added its contribution. Gradients are summed per node.
// Without `createGraph` the rules run under `noGrad` and gradients are summed in place into tensors the engine
// owns; with it they run with recording on and are summed with `Variable` addition, so the gradients carry a
// graph of their own.

extension Variable {
    /// Accumulates ∂self/∂leaf into `grad` of every leaf that requires gradients (PyTorch `backward()`).
    ///
    /// - Parameters:
    ///   - seed: the gradient of some scalar objective with respect to this variable; may be omitted only when
    ///     this variable has exactly one element (the seed is then 1).
    ///   - createGraph: record the backward computation, so the accumulated gradients could be differentiated
    ///     again (use `gradients(of:wrt:createGraph:)` to get them as variables).
    /// - Throws: `TensorError.invalidShape` when no seed is given for a non-scalar output or the seed's shape
    ///   differs from this variable's; `ConfigurationError` (`Variable.requiresGrad`) when the output does not
    ///   require gradients; errors of the backward rules.
    public func backward(_ seed: Tensor<Scalar>? = nil, createGraph: Bool = false) throws {
        let result = try Autograd.run(self, seed: seed, createGraph: createGraph, targets: nil)
        for (leaf, g) in result.leaves {
            if var old = leaf.grad {
                leaf.grad = nil
                try AutogradKernels.addInPlace(&old, g.value)
                leaf.grad = old
            } else {
                leaf.grad = g.value
            }
        }
    }
}

/// ∂y/∂x for each x in `xs`, without touching any `grad` (PyTorch `torch.autograd.grad`).
///
/// With `createGraph: true` the returned gradients are recorded results that can be differentiated again: this
/// is how a gradient penalty ‖∇ₓD(x)‖ or a score-matching objective gets its own gradient with respect to the
/// parameters. An x that y does not depend on gets zeros.
///
/// - Parameters:
///   - seed: ∂L/∂y for a non-scalar y (a vector–Jacobian product); 1 when y has one element.
public func gradients<Scalar>(of y: Variable<Scalar>, wrt xs: [Variable<Scalar>], seed: Tensor<Scalar>? = nil,
                              createGraph: Bool = false) throws -> [Variable<Scalar>] {
    let result = try Autograd.run(y, seed: seed, createGraph: createGraph, targets: xs)
    return xs.map { x in
        result.targets[ObjectIdentifier(x)] ?? Variable(AutogradKernels.full(x.shape, 0))
    }
}

/// ∂y/∂x (one input; see `gradients(of:wrt:seed:createGraph:)`).
public func gradient<Scalar>(of y: Variable<Scalar>, wrt x: Variable<Scalar>, seed: Tensor<Scalar>? = nil,
                             createGraph: Bool = false) throws -> Variable<Scalar> {
    try gradients(of: y, wrt: [x], seed: seed, createGraph: createGraph)[0]
}

/// The backward engine.
enum Autograd {
    /// During a backward pass for chosen targets: the nodes whose gradients are needed (nil: every node that
    /// requires gradients).
    @TaskLocal static var needed: Set<ObjectIdentifier>? = nil

    struct Result<Scalar: BLASScalar> {
        /// Gradients of leaves that require them (in first-visit order).
        var leaves: [(Variable<Scalar>, Variable<Scalar>)] = []
        /// Gradients of the requested targets.
        var targets: [ObjectIdentifier: Variable<Scalar>] = [:]
    }

    /// Runs the backward pass from `root`. With `targets` nil every leaf requiring gradients is collected;
    /// otherwise only the gradients of `targets` (leaves or intermediate results) are kept.
    static func run<Scalar>(_ root: Variable<Scalar>, seed: Tensor<Scalar>?, createGraph: Bool,
                            targets: [Variable<Scalar>]?) throws -> Result<Scalar> {
        let seedTensor: Tensor<Scalar>
        if let seed {
            guard seed.shape == root.shape else {
                throw TensorError.invalidShape("backward: the seed has shape \(seed.shape) but the output has shape \(root.shape)")
            }
            seedTensor = seed
        } else {
            guard root.count == 1 else {
                throw TensorError.invalidShape("backward: the output has shape \(root.shape); pass a seed (∂L/∂output) for a non-scalar output")
            }
            seedTensor = AutogradKernels.full(root.shape, 1)
        }
        guard root.requiresGrad else {
            throw ConfigurationError(field: "Variable.requiresGrad", reason: "backward: the output does not require gradients (it was computed under noGrad, from constants, or detached)")
        }
        let targetIDs = targets.map { Set($0.map(ObjectIdentifier.init)) }

        // Reverse topological order of the recorded (non-leaf) nodes.
        var order: [Variable<Scalar>] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable<Scalar>, Bool)] = [(root, false)]
        while let (v, expanded) = stack.popLast() {
            if expanded { order.append(v); continue }
            guard v.rule != nil, visited.insert(ObjectIdentifier(v)).inserted else { continue }
            stack.append((v, true))
            for p in v.inputs where p.requiresGrad && p.rule != nil && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }

        // With targets, only nodes from which a target is reachable need gradients (`needsGradient`): a
        // gradient with respect to the input x of a network then costs no parameter-gradient products.
        var needed: Set<ObjectIdentifier>? = nil
        if var n = targetIDs {
            for v in order where !n.contains(ObjectIdentifier(v)) {   // post-order: inputs come first
                if v.inputs.contains(where: { n.contains(ObjectIdentifier($0)) }) { n.insert(ObjectIdentifier(v)) }
            }
            needed = n
        }

        var result = Result<Scalar>()
        var leafIndex: [ObjectIdentifier: Int] = [:]

        func keepLeaf(_ leaf: Variable<Scalar>, _ g: Variable<Scalar>) throws {
            let id = ObjectIdentifier(leaf)
            if let targetIDs {
                guard targetIDs.contains(id) else { return }
                if var old = result.targets.removeValue(forKey: id) {
                    try accumulate(&old, g, createGraph)
                    result.targets[id] = old
                } else {
                    result.targets[id] = g
                }
                return
            }
            if let i = leafIndex[id] {
                try accumulate(&result.leaves[i].1, g, createGraph)
            } else {
                leafIndex[id] = result.leaves.count
                result.leaves.append((leaf, g))
            }
        }

        var pending: [ObjectIdentifier: Variable<Scalar>] = [ObjectIdentifier(root): Variable(seedTensor)]
        let body = {
            if root.rule == nil {
                // The output is itself a leaf.
                try keepLeaf(root, pending[ObjectIdentifier(root)]!)
                return
            }
            for v in order.reversed() {
                let id = ObjectIdentifier(v)
                guard let g = pending.removeValue(forKey: id) else { continue }
                if let targetIDs, targetIDs.contains(id) { result.targets[id] = g }
                let grads = try v.rule!(g)
                precondition(grads.count == v.inputs.count, "backward rule of \(v.operation) returned \(grads.count) gradients for \(v.inputs.count) inputs")
                for (input, gi) in zip(v.inputs, grads) {
                    guard let gi, input.needsGradient else { continue }
                    guard gi.shape == input.shape else {
                        throw TensorError.invalidShape("backward rule of \(v.operation) gave a gradient of shape \(gi.shape) for an input of shape \(input.shape)")
                    }
                    if input.rule == nil { try keepLeaf(input, gi); continue }
                    let iid = ObjectIdentifier(input)
                    if var old = pending.removeValue(forKey: iid) {
                        try accumulate(&old, gi, createGraph)
                        pending[iid] = old
                    } else {
                        pending[iid] = gi
                    }
                }
            }
        }
        try Autograd.$needed.withValue(needed) {
            if createGraph { try withGrad(body) } else { try noGrad(body) }
        }
        return result
    }

    /// old ← old + new: a recorded sum when creating a graph; otherwise in place when nobody else holds `old`
    /// (a rule may hand the same gradient object to several inputs), else into a new variable.
    static func accumulate<Scalar>(_ old: inout Variable<Scalar>, _ new: Variable<Scalar>, _ createGraph: Bool) throws {
        if createGraph { old = try old + new; return }
        if isKnownUniquelyReferenced(&old) {
            try AutogradKernels.addInPlace(&old.value, new.value)
        } else {
            old = Variable(try AutogradKernels.add(old.value, new.value))
        }
    }
}
