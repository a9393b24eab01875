import Linear

extension ConfigurationError {
    /// Throws a `ConfigurationError` for the first of `checks` that is false, naming it as `type.field` (e.g.
    /// `MLPDenoiserConfiguration.hidden`), with `reason` as the message; does nothing when all hold. It lets a
    /// configuration state its conditions once, in one list, and still name the field that broke them.
    static func check(_ type: String, _ checks: KeyValuePairs<String, Bool>, reason: @autoclosure () -> String) throws {
        for (field, holds) in checks where !holds { throw ConfigurationError(field: "\(type).\(field)", reason: reason()) }
    }
}
