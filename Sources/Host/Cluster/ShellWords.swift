/// Words as a POSIX shell reads them: what `skilltune` prints for the user to paste (resume and resubmit
/// commands) and writes into batch scripts.
public enum ShellWords {
    /// `word` as a shell would need it typed: as is when it holds only safe characters, else in single quotes.
    public static func quoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%")
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A command line from its words.
    public static func line(_ words: [String]) -> String { words.map(quoted).joined(separator: " ") }
}
