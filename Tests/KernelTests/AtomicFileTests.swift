import Foundation
import Kernel
import XCTest

/// A failed write never damages what was there before and leaves no temporary files behind.
final class AtomicFileTests: XCTestCase {
    struct Interrupted: Error {}
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("atomic") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    func testWriteReplacesContentSmallAndLarge() throws {
        let url = directory.appendingPathComponent("results.json")
        try AtomicFile.write("{\"a\":1}", to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"a\":1}")
        // Larger than the 1 MB gathering buffer, written in mixed piece sizes.
        let big = Data((0..<3_000_001).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try AtomicFile.write(to: url) { out in
            try out.write(big.prefix(10))
            try out.write(big[10..<2_500_000])
            try out.write(big[2_500_000...])
            XCTAssertEqual(out.bytesWritten, big.count)
        }
        XCTAssertEqual(try Data(contentsOf: url), big)
        XCTAssertEqual(try contents(), ["results.json"], "no temporary file left")
    }

    func testBodyThrowingMidwayKeepsThePreviousFile() throws {
        let url = directory.appendingPathComponent("results.json")
        try AtomicFile.write("previous", to: url)
        XCTAssertThrowsError(
            try AtomicFile.write(to: url) { out in
                try out.write(Data(repeating: 1, count: 3_000_000))  // some of it already reached the disk
                throw Interrupted()
            }
        ) { error in XCTAssertTrue(error is Interrupted) }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "previous")
        XCTAssertEqual(try contents(), ["results.json"])
    }

    func testSafeTensorsWriteThatFailsKeepsThePreviousFile() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensors.write([("w", Tensor(shape: [2], values: [1, 2]))], metadata: ["v": "1"], to: url)
        let before = try Data(contentsOf: url)
        XCTAssertThrowsError(
            try SafeTensors.write([("ok", Tensor(zeros: [3])), ("__metadata__", Tensor(zeros: [1]))], to: url))
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try SafeTensorsFile(url: url).metadata, ["v": "1"])
        XCTAssertEqual(try contents(), ["model.safetensors"])
    }

    /// The last step (rename) fails after every byte was written: a directory stands where the file goes.
    func testFailureAtTheFinalRenameLeavesNoTrace() throws {
        let url = directory.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try AtomicFile.write("inside", to: url.appendingPathComponent("keep.txt"))
        XCTAssertThrowsError(try SafeTensors.write([("w", Tensor(zeros: [1000]))], to: url)) { error in
            let io = error as? FileIOError
            XCTAssertEqual(io?.operation, "rename temporary file into place", "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(url.path + ": cannot rename temporary file into place: "), "\(error)")
        }
        XCTAssertEqual(try contents(), ["occupied"])
        XCTAssertEqual(try String(contentsOf: url.appendingPathComponent("keep.txt"), encoding: .utf8), "inside")
    }

    func testMissingDirectoryIsAClearError() {
        let url = directory.appendingPathComponent("no/such/dir/out.json")
        XCTAssertThrowsError(try AtomicFile.write("x", to: url)) { error in
            XCTAssertEqual((error as? FileIOError)?.code, ENOENT, "\(error)")
            XCTAssertTrue("\(error)".contains("cannot create a temporary file in"), "\(error)")
        }
    }
}
