import Kernel

/// The scoring rules of the suite, each 1 for right and 0 for wrong or malformed.
public enum SkillScoring {
    /// Multiple choice: the prediction's option letter (see `AnswerMatching.choiceLetter`) equals the answer's.
    public static func letter(_ prediction: String, _ answer: String) -> Double {
        guard let p = AnswerMatching.choiceLetter(in: prediction), let a = AnswerMatching.choiceLetter(in: answer)
        else { return 0 }
        return p == a ? 1 : 0
    }

    /// Counting and numbers: the first whole number of the prediction (digits or number words) equals the answer's.
    public static func integer(_ prediction: String, _ answer: String) -> Double {
        guard let p = AnswerMatching.integer(in: prediction), let a = AnswerMatching.integer(in: answer) else {
            return 0
        }
        return p == a ? 1 : 0
    }

    /// Yes/no: the prediction's first word is the answer's.
    public static func yesNo(_ prediction: String, _ answer: String) -> Double {
        guard let p = AnswerMatching.yesNo(in: prediction), let a = AnswerMatching.yesNo(in: answer) else { return 0 }
        return p == a ? 1 : 0
    }

    /// Short open answers ("red", "triangle", "left"): equal after normalisation and dropping a leading article.
    public static func word(_ prediction: String, _ answer: String) -> Double {
        AnswerMatching.normalizedWithoutArticle(prediction) == AnswerMatching.normalizedWithoutArticle(answer) ? 1 : 0
    }

    /// Scene text: equal ignoring case, all whitespace and a trailing period.
    public static func text(_ prediction: String, _ answer: String) -> Double {
        func squeeze(_ s: String) -> String { AnswerMatching.normalized(s).filter { !$0.isWhitespace } }
        return squeeze(prediction) == squeeze(answer) && !squeeze(answer).isEmpty ? 1 : 0
    }

    /// Clocks, as in the study: the hour exact (12-hour, so 00 and 12 agree) and the minute within +-1, wrapping
    /// around the hour (59 and 00 are 1 apart; the hour must still match).
    public static func clock(_ prediction: String, _ answer: String) -> Double {
        guard let p = AnswerMatching.clockTime(in: prediction), let a = AnswerMatching.clockTime(in: answer) else {
            return 0
        }
        let minuteGap = abs(p.minute - a.minute)
        return (p.hour % 12 == a.hour % 12 && min(minuteGap, 60 - minuteGap) <= 1) ? 1 : 0
    }

    /// Numbers when the answer is a number, otherwise short open answers.
    static func integerOrWord(_ prediction: String, _ answer: String) -> Double {
        answer.allSatisfy({ $0.isASCII && $0.isNumber }) ? integer(prediction, answer) : word(prediction, answer)
    }
}
