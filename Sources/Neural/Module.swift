import Linear

/// A model component with named parameters and named submodules, in train or eval mode.
///
/// Parameters are addressed by dotted paths built from the names modules give their children and parameters,
/// as in PyTorch's `state_dict`: `blocks.0.attn.qkv.weight`. The listing is deterministic (declaration
/// order), so optimisers, EMA and checkpoints line up with it.
///
/// Conformers are classes that hold their parameters as `Variable`s (shared with optimisers) and their submodules
/// as stored properties, each declared once: `localParameters` and `children` are read from those properties by
/// reflection (`ModuleReflection`; a property `weight` is the parameter `weight`, an array `blocks` of modules the
/// children `blocks.0`, `blocks.1`, …). A module overrides them only to choose other names (for example to match
/// a checkpoint format). Everything else (listing, counting, mode switching, saving and loading) comes from the
/// extension, and `unregisteredParameters()` finds any parameter the listing misses.
public protocol Module<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    /// The parameters this module holds itself, by local name (e.g. `weight`, `bias`); by default its stored
    /// `Variable` properties.
    var localParameters: [(String, Variable<Scalar>)] { get }
    /// The direct submodules, by local name (e.g. `attn`, `blocks.0`); by default its stored module properties.
    var children: [(String, any Module<Scalar>)] { get }
    /// Training mode (dropout active) or evaluation mode.
    var isTraining: Bool { get set }
}

extension Module {
    public var localParameters: [(String, Variable<Scalar>)] { ModuleReflection.members(of: self).parameters }
    public var children: [(String, any Module<Scalar>)] { ModuleReflection.members(of: self).children }

    /// Paths of the `Variable`s reachable from this module's stored properties (through submodules, optionals,
    /// arrays and structs) that `namedParameters()` does not list: parameters an optimiser, EMA or checkpoint would
    /// never see. Empty for a correctly declared module; the test suite checks every layer.
    public func unregisteredParameters() -> [String] {
        let listed = Set(namedParameters().map { ObjectIdentifier($0.parameter) })
        return ModuleReflection.reachableVariables(from: self, as: Scalar.self)
            .filter { !listed.contains(ObjectIdentifier($0.1)) }.map(\.0)
    }

    /// Every parameter with its dotted path, depth first in declaration order.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Variable<Scalar>)] {
        var out: [(name: String, parameter: Variable<Scalar>)] = []
        for (n, p) in localParameters { out.append((prefix + n, p)) }
        for (n, m) in children { out += m.namedParameters(prefix: prefix + n + ".") }
        return out
    }

    /// Every parameter, in the order of `namedParameters()`.
    public var parameters: [Variable<Scalar>] { namedParameters().map(\.parameter) }

    /// Total number of scalars in the parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Every submodule with its dotted path (this module first, with path "").
    public func namedModules(prefix: String = "") -> [(name: String, module: any Module<Scalar>)] {
        var out: [(name: String, module: any Module<Scalar>)] = [(prefix.isEmpty ? "" : String(prefix.dropLast()), self)]
        for (n, m) in children { out += m.namedModules(prefix: prefix + n + ".") }
        return out
    }

    /// Sets training mode here and in every submodule (dropout on).
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, m) in children { m.train(on) }
    }

    /// Sets evaluation mode here and in every submodule (dropout off).
    public func eval() { train(false) }

    /// Clears the gradient of every parameter.
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// Freezes (`false`) or unfreezes every parameter.
    public func requiresGrad(_ on: Bool) { for p in parameters { p.requiresGrad = on } }

    /// The parameter values by path (PyTorch `state_dict`).
    public func stateDict() -> [String: Tensor<Scalar>] {
        var d: [String: Tensor<Scalar>] = [:]
        for (n, p) in namedParameters() { d[n] = p.value }
        return d
    }

    /// Replaces every parameter value from `state`. Names and shapes must match exactly.
    /// - Throws: `ModelStateError` listing missing names, unexpected names and shape mismatches.
    public func loadStateDict(_ state: [String: Tensor<Scalar>]) throws {
        let named = namedParameters()
        try Checkpoint.check(expected: named.map { ($0.name, $0.parameter.shape) }, found: state.mapValues(\.shape))
        for (n, p) in named { p.value = state[n]! }
    }
}

/// The one place training mode is stored, as in PyTorch's `nn.Module.training`: the library's modules inherit it
/// (`final class Dense<Scalar: BLASScalar>: ModuleBase, Layer`) instead of each declaring its own flag.
/// `Module.train(_:)` and `eval()` set it on a module and all its submodules; only dropout (and RealNVP's
/// data-dependent initialisation) read it. A module written outside the library may inherit it too, or declare
/// `var isTraining` itself.
open class ModuleBase {
    /// Training mode (dropout active) or evaluation mode; new modules start in training mode.
    public var isTraining = true
    public init() {}
}

/// A module mapping one variable to another, so it can be chained (`Sequential`).
public protocol Layer<Scalar>: Module {
    func callAsFunction(_ x: Variable<Scalar>) throws -> Variable<Scalar>
}
