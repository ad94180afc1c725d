import Foundation

/// Python's `datetime.strftime` for the directives chat templates use (`%d %b %Y`, `%B`, `%A`, `%H:%M`...), in the
/// C locale, on the local time of `date` (transformers formats `datetime.now()`).
enum Strftime {
    private static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ]
    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func format(_ format: String, _ date: Date, timeZone: TimeZone = .current) throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let year = c.year ?? 1970
        let month = c.month ?? 1
        let day = c.day ?? 1
        let hour = c.hour ?? 0
        let minute = c.minute ?? 0
        let second = c.second ?? 0
        let weekday = (c.weekday ?? 1) - 1  // 0 = Sunday
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var out = ""
        var escape = false
        for ch in format {
            guard escape else {
                if ch == "%" { escape = true } else { out.append(ch) }
                continue
            }
            escape = false
            switch ch {
            case "d": out += two(day)
            case "-":
                throw RenderFailure("strftime_now: '%-' flags are platform-specific and not supported")
            case "m": out += two(month)
            case "Y": out += String(year)
            case "y": out += two(year % 100)
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "a": out += String(weekdays[weekday].prefix(3))
            case "A": out += weekdays[weekday]
            case "w": out += String(weekday)
            case "H": out += two(hour)
            case "I": out += two(hour % 12 == 0 ? 12 : hour % 12)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "M": out += two(minute)
            case "S": out += two(second)
            case "j": out += String(format: "%03d", dayOfYear)
            case "e": out += day < 10 ? " \(day)" : "\(day)"
            case "%": out += "%"
            default: out += "%" + String(ch)
            }
        }
        if escape { out += "%" }
        return out
    }
}
