import Foundation

/// Output helpers: errors to standard error, and whether standard output is a terminal.
public enum Terminal {
    public static func error(_ message: String) {
        FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    }

    public static var isInteractive: Bool { isatty(STDERR_FILENO) != 0 }
}
