extension DataFileBenchmark {
    /// A malformed data file: the file, and each bad item with what was wrong.
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        /// (line number from 1, reason); line 0 for problems with the whole file. Items of a JSON array give
        /// the line they start on, and their reason starts with "item N: ".
        public var problems: [(line: Int, reason: String)]

        public init(file: String, problems: [(line: Int, reason: String)]) {
            self.file = file
            self.problems = problems
        }

        /// The file, then up to 20 problems, one a line.
        public var description: String {
            let lines = problems.prefix(20).map { $0.line > 0 ? "  line \($0.line): \($0.reason)" : "  \($0.reason)" }
            let more = problems.count > 20 ? ["  ... and \(problems.count - 20) more"] : []
            return "\(file): "
                + (problems.count == 1 && problems[0].line == 0
                    ? problems[0].reason
                    : "\(problems.count) problem\(problems.count == 1 ? "" : "s")\n"
                        + (lines + more).joined(separator: "\n"))
        }
    }
}
