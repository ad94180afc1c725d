import Foundation

/// An expression of the template language.
indirect enum Expression {
    case literal(Value)
    case name(String)
    case list([Expression])
    case tuple([Expression])
    case dict([(Expression, Expression)])
    /// `a.b` (attribute first, then item, as Jinja2's `getattr`).
    case attribute(Expression, String)
    /// `a[b]` (item first, then attribute).
    case item(Expression, Expression)
    /// `a[start:stop:step]`.
    case slice(Expression, Expression?, Expression?, Expression?)
    case call(Expression, [Expression], [(String, Expression)], SourceLocation)
    /// `value | name(args)`.
    case filter(Expression, String, [Expression], [(String, Expression)], SourceLocation)
    /// `value is [not] name args`.
    case test(Expression, String, [Expression], negated: Bool, SourceLocation)
    case negate(Expression)
    case plus(Expression)
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    /// `+ - * / // % **`.
    case binary(String, Expression, Expression, SourceLocation)
    /// `a ~ b ~ c`: strings joined.
    case concat([Expression])
    /// `a < b <= c`, `in`, `not in`: chained as in Python.
    case compare(Expression, [(String, Expression)], SourceLocation)
    /// `a if test else b` (no else: undefined).
    case conditional(Expression, Expression, Expression?)
}

/// What a `for` or `set` assigns to: a name, `ns.attr`, or a tuple of names.
enum AssignTarget {
    case name(String)
    case attribute(String, String)
    case tuple([String])
}

/// A macro's parameters: names with optional default values.
struct MacroParameters {
    var names: [String]
    var defaults: [String: Expression]
}

/// A statement of the template: text, output or a tag.
indirect enum Statement {
    case text(String)
    case output(Expression, SourceLocation)
    case ifBlock([(Expression, [Statement])], [Statement], SourceLocation)
    case forLoop(
        target: AssignTarget, iterable: Expression, condition: Expression?, body: [Statement],
        elseBody: [Statement], SourceLocation)
    case set(AssignTarget, Expression, SourceLocation)
    case setBlock(AssignTarget, [Statement], [(String, [Expression], [(String, Expression)])], SourceLocation)
    case macro(String, MacroParameters, [Statement], SourceLocation)
    case callBlock(Expression, MacroParameters, [Statement], SourceLocation)
    case filterBlock([(String, [Expression], [(String, Expression)])], [Statement], SourceLocation)
    /// `{% generation %}...{% endgeneration %}`: transformers marks the assistant's tokens with it; the text
    /// renders as is.
    case generation([Statement])
    case breakLoop(SourceLocation)
    case continueLoop(SourceLocation)
}
