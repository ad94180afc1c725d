import Foundation

/// Progress of a long piece of work: on a terminal, one line redrawn in place with a bar, rate and ETA;
/// elsewhere (CI, pipes, files), a plain line every few seconds and one at the end.
public final class Progress {
    public let label: String
    public let total: Int
    public let unit: String
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interactive: Bool
    private let plainInterval: TimeInterval
    private let output: (String) -> Void
    private(set) var current = 0
    private var finished = false

    /// Whether progress lines are shown at all (tests and `--quiet` turn them off).
    nonisolated(unsafe) public static var isEnabled = true

    /// - Parameters:
    ///   - output: where lines go (standard error by default).
    public init(
        _ label: String, total: Int, unit: String = "step", interactive: Bool = Terminal.isInteractive,
        plainInterval: TimeInterval = 10, output: ((String) -> Void)? = nil
    ) {
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.interactive = interactive
        self.plainInterval = plainInterval
        self.output = output ?? { FileHandle.standardError.write($0.data(using: .utf8)!) }
    }

    /// Reports that `completed` units are done; `detail` (e.g. "loss 1.234") is shown after the bar.
    public func update(_ completed: Int, detail: String = "") {
        current = min(completed, total)
        guard Progress.isEnabled, !finished else { return }
        let now = Date()
        let done = current >= total
        if interactive {
            guard done || now.timeIntervalSince(lastPrint) >= 0.1 else { return }
            lastPrint = now
            output("\r" + line(detail: detail, width: 24) + "\u{1B}[K")
            if done {
                output("\n")
                finished = true
            }
        } else {
            guard done || now.timeIntervalSince(lastPrint) >= plainInterval else { return }
            lastPrint = now
            output(line(detail: detail, width: 0) + "\n")
            if done { finished = true }
        }
    }

    /// Ends the line early (on an error, or when work stops before `total`).
    public func finish(detail: String = "") {
        guard Progress.isEnabled, !finished else { return }
        finished = true
        output(
            (interactive ? "\r" : "") + line(detail: detail, width: interactive ? 24 : 0)
                + (interactive ? "\u{1B}[K\n" : "\n"))
    }

    /// The text of one progress line: label, bar (if width > 0), count, rate, ETA, detail.
    func line(detail: String, width: Int) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let fraction = total > 0 ? Double(current) / Double(total) : 1
        var parts = [label]
        if width > 0 {
            let filled = Int((fraction * Double(width)).rounded(.down))
            parts.append(
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
        }
        parts.append("\(current)/\(total)")
        if elapsed > 0 && current > 0 {
            let rate = Double(current) / elapsed
            parts.append(rate >= 10 ? String(format: "%.0f %@/s", rate, unit) : String(format: "%.2f %@/s", rate, unit))
            if current < total {
                parts.append("ETA " + Progress.formatDuration(Double(total - current) / rate))
            } else {
                parts.append("in " + Progress.formatDuration(elapsed))
            }
        }
        if !detail.isEmpty { parts.append(detail) }
        return parts.joined(separator: "  ")
    }

    /// "4s", "2m05s", "1h03m".
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
