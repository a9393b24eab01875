/// Whether operations on `Variable`s record a graph for differentiation.
///
/// Recording is on by default. `noGrad { }` turns it off for a scope (inference, optimiser updates, EMA), and
/// first-order `backward()` runs the backward rules with recording off, so a training step pays for one graph
/// only. `backward(createGraph: true)` and `gradients(of:wrt:createGraph: true)` leave it on, so the gradients
/// they return are themselves differentiable (gradients of gradients, PyTorch's `create_graph=True`).
///
/// The flag is a task-local value: concurrent tasks (for example tests running in parallel) each see their own.
public enum GradMode {
    /// True while operations record a graph.
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording a graph: results of `Variable` operations have no backward rule and do not
/// require gradients (PyTorch `torch.no_grad()`).
@discardableResult
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

/// Runs `body` with graph recording on, even inside `noGrad` (PyTorch `torch.enable_grad()`).
@discardableResult
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(true) { try body() }
}
