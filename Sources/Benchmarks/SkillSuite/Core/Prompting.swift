import Kernel

/// Prompt assembly shared by the tasks: templates with `{name}` placeholders, the image placeholder at the start,
/// multiple-choice option lists, and the word sets that make the vocabulary.
public enum Prompting {
    /// Where the image goes; every prompt of the suite starts with it, once.
    public static let imagePlaceholder = "<image>"

    /// `template` with its `{name}` placeholders filled, after the image placeholder and a newline.
    public static func prompt(_ template: String, _ values: [String: String] = [:]) -> String {
        imagePlaceholder + "\n" + fill(template, values)
    }

    static func fill(_ template: String, _ values: [String: String]) -> String {
        var text = template
        for (key, value) in values { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        precondition(!text.contains("{"), "Prompting: unfilled placeholder in '\(text)'")
        return text
    }

    /// Prompts of the dense-description examples every held-out task offers for pretraining.
    public static let describeTemplates = [
        "Describe the image in detail.", "Describe everything in this picture.",
        "List what the image shows.",
    ]

    /// Prompts of the focused descriptions of one object (`Draft.details`).
    public static let detailTemplates = ["Describe the {subject}.", "Tell me about the {subject}."]

    /// The words of the descriptions' shared phrasing (positions, sides, and the focused descriptions' phrases).
    static let descriptionWords = words(
        describeTemplates + detailTemplates.map { fill($0, ["subject": ""]) }
            + [
                "top bottom left right middle at on the and a big small , . : ;",
                "it is has shows high tallest shortest highest number value field there no of object above below",
            ])

    /// The option letters of a multiple-choice question.
    public static let optionLetters = ["A", "B", "C", "D", "E", "F"]

    /// The four colours and four shapes of the multiple-choice tasks, in the order options list them.
    static let choiceColours: [NamedColour] = [.red, .green, .blue, .yellow]
    static let choiceShapes: [ShapeKind] = ShapeKind.compact

    /// Lettered options for `correct` among `pool` (all of it, at most 4): in `pool`'s order, or shuffled.
    /// Returns the options and the right letter's index.
    static func choices(_ correct: String, from pool: [String], shuffled: Bool, _ rng: inout RandomGenerator) -> (
        [String], Int
    ) {
        var options = Array(pool.prefix(4))
        precondition(options.contains(correct), "choices: '\(correct)' is not among \(options)")
        if shuffled { rng.shuffle(&options) }
        return (options, options.firstIndex(of: correct)!)
    }

    /// A question followed by lettered options, one per line, and an instruction line.
    static func multipleChoice(_ question: String, options: [String], instruction: String) -> String {
        var lines = [question]
        for (i, option) in options.enumerated() { lines.append("\(optionLetters[i]). \(option)") }
        lines.append(instruction)
        return lines.joined(separator: "\n")
    }

    /// "a", "a and b", "a, b and c": phrases joined as an English list (at least one phrase).
    static func list(_ phrases: [String]) -> String {
        precondition(!phrases.isEmpty, "Prompting.list: no phrases")
        return phrases.count == 1 ? phrases[0] : phrases.dropLast().joined(separator: ", ") + " and " + phrases.last!
    }

    /// The words of `texts` with `{placeholders}` removed.
    static func words(_ texts: [String]) -> Set<String> {
        var result = Set<String>()
        for text in texts {
            var stripped = ""
            var inPlaceholder = false
            for c in text {
                if c == "{" {
                    inPlaceholder = true
                    stripped.append(" ")
                } else if c == "}" {
                    inPlaceholder = false
                } else if !inPlaceholder {
                    stripped.append(c)
                }
            }
            result.formUnion(WordText.words(in: stripped))
        }
        return result
    }

    /// Light background colours for object scenes.
    static let lightBackgrounds: [RGB] = [
        RGB(246, 246, 240), RGB(228, 234, 246), RGB(242, 232, 218), RGB(226, 242, 228),
        RGB(236, 236, 236), RGB(248, 236, 240),
    ]
}
