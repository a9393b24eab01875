import Linear

/// Finds a module's parameters and submodules from its stored properties (Swift's `Mirror`), so a layer declares
/// each of them once, as a property, and `Module`'s listing, optimisers, EMA and checkpoints all see it.
///
/// Naming follows PyTorch's `state_dict`: a property `weight` holding a `Variable` is the parameter `weight`; a
/// property `attn` holding a module is the child `attn`; an array `blocks` of modules gives `blocks.0`, `blocks.1`, …
/// and an array of variables `weights.0`, …; an optional holding `nil` gives nothing. Properties are visited in
/// declaration order (superclass first). Values of other types (tensors, numbers, closures) are ignored: a
/// `Variable` held only inside one of them is invisible, which `Module.unregisteredParameters()` reports.
enum ModuleReflection {
    /// One stored property's contribution: parameters and child modules, with their local names.
    struct Members<S: BLASScalar> {
        var parameters: [(String, Variable<S>)] = []
        var children: [(String, any Module<S>)] = []
    }

    static func members<S: BLASScalar>(of module: any Module<S>) -> Members<S> {
        var out = Members<S>()
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: module)
        while let current = m { mirrors.insert(current, at: 0); m = current.superclassMirror }
        for mirror in mirrors {
            for child in mirror.children {
                guard let label = child.label else { continue }
                collect(child.value, name: label, into: &out)
            }
        }
        return out
    }

    /// Adds `value` under `name`: a variable, a module, or an optional or array of them.
    private static func collect<S: BLASScalar>(_ value: Any, name: String, into out: inout Members<S>) {
        if let v = value as? Variable<S> { out.parameters.append((name, v)); return }
        if let module = value as? any Module<S> { out.children.append((name, module)); return }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            if let wrapped = mirror.children.first { collect(wrapped.value, name: name, into: &out) }
        case .collection:
            for (i, element) in mirror.children.enumerated() { collect(element.value, name: "\(name).\(i)", into: &out) }
        default:
            break
        }
    }

    /// Every `Variable` reachable from `root` through stored properties of modules and of the optionals, arrays,
    /// dictionaries, tuples and structs they hold (not through tensors), with a path for messages.
    static func reachableVariables<S: BLASScalar>(from root: any Module<S>, as _: S.Type = S.self) -> [(String, Variable<S>)] {
        var found: [(String, Variable<S>)] = []
        var seen: Set<ObjectIdentifier> = []
        func visit(_ value: Any, path: String, depth: Int) {
            guard depth < 12 else { return }
            if let v = value as? Variable<S> { found.append((path, v)); return }
            if value is Tensor<S> || value is Tensor<Float> || value is Tensor<Double> { return }
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .class {
                let id = ObjectIdentifier(value as AnyObject)
                guard seen.insert(id).inserted else { return }
            }
            var mirrors: [Mirror] = []
            var m: Mirror? = mirror
            while let current = m { mirrors.append(current); m = current.superclassMirror }
            for current in mirrors {
                for (i, child) in current.children.enumerated() {
                    visit(child.value, path: path.isEmpty ? (child.label ?? "\(i)") : path + "." + (child.label ?? "\(i)"), depth: depth + 1)
                }
            }
        }
        visit(root, path: "", depth: 0)
        return found
    }
}
