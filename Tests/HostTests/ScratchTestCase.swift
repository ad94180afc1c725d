import Foundation
import Host
import XCTest

/// A test case with a fresh scratch directory (`scratch`, created before each test and removed after it) and
/// progress output off while each test runs (the previous setting restored afterwards).
class ScratchTestCase: XCTestCase {
    /// The start of the scratch directory's name (a UUID follows).
    class var scratchPrefix: String { "skilltune-test" }

    var scratch: URL!
    private var progressWasEnabled = true

    override func setUpWithError() throws {
        try super.setUpWithError()
        progressWasEnabled = Progress.isEnabled
        Progress.isEnabled = false
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(type(of: self).scratchPrefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        Progress.isEnabled = progressWasEnabled
        try? FileManager.default.removeItem(at: scratch)
        super.tearDown()
    }
}
