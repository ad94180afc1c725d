import Kernel

extension DataFileBenchmark {
    /// How predictions are compared with an item's reference answers (the scored turn's answer, plus any in
    /// the item's `"answers"` list). Every rule takes the best score over the references.
    public enum Scoring: String, CaseIterable, Sendable {
        /// Equal after trimming surrounding whitespace.
        case exact
        /// Equal ignoring case, repeated whitespace, a trailing period and a leading article (a, an, the).
        case normalized
        /// The first number in each (digits, decimals or number words) equal within `numericTolerance`.
        case numeric
        /// The chosen option letter ("B", "(b)", "B. dog") equals the answer's letter; the answer must be a letter.
        case multipleChoice = "multiple-choice"
        /// Average Normalized Levenshtein Similarity (DocVQA, InfoVQA), a fraction in [0, 1], as lmms-eval:
        /// `AnswerSimilarity.anls` with threshold 0.5.
        case anls
        /// ChartQA's relaxed accuracy, as lmms-eval: numbers within 5% of the reference, other answers equal
        /// after lowercasing (`AnswerSimilarity.relaxedCorrectness`).
        case relaxed

        /// The scoring names, in declaration order, for help and error messages.
        public static var names: [String] { allCases.map(\.rawValue) }

        /// The scoring called `name`; an unknown name throws an error listing every scoring.
        public static func named(_ name: String) throws -> Scoring {
            guard let scoring = Scoring(rawValue: name) else { throw UnknownScoring(name: name) }
            return scoring
        }

        /// Why `answer` cannot be scored by this rule, or nil when it can.
        func problem(withAnswer answer: String, options: [String]?) -> String? {
            switch self {
            case .multipleChoice:
                guard let letter = AnswerMatching.choiceLetter(in: answer) else {
                    return "multiple-choice answer \"\(answer)\" is not an option letter (A, B, ...)"
                }
                if let options, Int(letter.asciiValue! - 65) >= options.count {
                    return "answer \(letter) is beyond the \(options.count) options"
                }
            case .numeric:
                if AnswerMatching.number(in: answer) == nil { return "numeric answer \"\(answer)\" has no number" }
            case .exact, .normalized, .anls, .relaxed:
                break
            }
            return nil
        }

        /// The score of `prediction` against one reference answer.
        func score(_ prediction: String, reference: String, options: [String]?, numericTolerance: Double) -> Double {
            switch self {
            case .exact:
                return prediction.trimmingCharacters(in: .whitespacesAndNewlines)
                    == reference.trimmingCharacters(in: .whitespacesAndNewlines) ? 1 : 0
            case .normalized:
                return AnswerMatching.normalizedWithoutArticle(prediction)
                    == AnswerMatching.normalizedWithoutArticle(reference) ? 1 : 0
            case .numeric:
                guard let p = AnswerMatching.number(in: prediction), let a = AnswerMatching.number(in: reference) else {
                    return 0
                }
                return abs(p - a) <= numericTolerance * max(1, abs(a)) ? 1 : 0
            case .multipleChoice:
                guard let a = AnswerMatching.choiceLetter(in: reference) else { return 0 }
                if let p = AnswerMatching.choiceLetter(in: prediction) { return p == a ? 1 : 0 }
                // A prediction that names the right option's text also counts.
                let index = Int(a.asciiValue! - 65)
                if let options, index < options.count {
                    return AnswerMatching.normalizedWithoutArticle(prediction)
                        == AnswerMatching.normalizedWithoutArticle(options[index]) ? 1 : 0
                }
                return 0
            case .anls:
                return AnswerSimilarity.anls(prediction: prediction, references: [reference])
            case .relaxed:
                // Generated text is stripped first, as lmms-eval's models strip their outputs.
                let stripped = prediction.trimmingCharacters(in: .whitespacesAndNewlines)
                return AnswerSimilarity.relaxedCorrectness(prediction: stripped, target: reference) ? 1 : 0
            }
        }
    }

    /// A scoring name that is not one of `Scoring.names`.
    public struct UnknownScoring: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "unknown scoring '\(name)'; scorings: \(Scoring.names.joined(separator: ", "))"
        }
    }
}
