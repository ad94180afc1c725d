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

    /// A process id no process has (for leftovers whose writer is gone).
    func deadProcessID() -> Int32 {
        for pid in stride(from: Int32(3_999_999), to: 3_000_000, by: -7919) where kill(pid, 0) != 0 && errno == ESRCH {
            return pid
        }
        XCTFail("no unused process id found")
        return 0
    }

    func testTemporaryNamesCarryTheHostAndParse() throws {
        let url = directory.appendingPathComponent("results.json")
        var seen: [String] = []
        try AtomicFile.write(to: url) { _ in seen = try contents() }
        XCTAssertEqual(seen.count, 1, "\(seen)")
        let name = try XCTUnwrap(seen.first)
        XCTAssertTrue(
            name.hasPrefix(".results.json.tmp-\(TemporaryOwner.hostTag)-\(getpid())-"), "temporary name \(name)")
        XCTAssertEqual(
            AtomicFile.temporaryFileOwner(name), TemporaryOwner(host: TemporaryOwner.hostTag, pid: getpid()))
        XCTAssertFalse(TemporaryOwner.hostTag.contains("-"), "the host tag must not contain the field separator")
        XCTAssertEqual(
            AtomicFile.temporaryFileOwner(".a.bin.tmp-node01.cluster_x-4242-ff"),
            TemporaryOwner(host: "node01.cluster_x", pid: 4242))
        XCTAssertEqual(AtomicFile.temporaryFileOwner(".a.bin.tmp-4242-ff"), TemporaryOwner(host: nil, pid: 4242))
        for bad in [
            ".a.bin.tmp--4242-ff", ".a.bin.tmp-h-x-ff", ".a.bin.tmp-h-4242-zz", "a.bin.tmp-h-4242-ff", ".a.bin.tmp-ff",
        ] {
            XCTAssertNil(AtomicFile.temporaryFileOwner(bad), bad)
        }
    }

    /// On a shared filesystem another node's temporary files belong to writers this host cannot see: only this
    /// host's leftovers of processes that are gone (and names from before hosts were recorded) are removed.
    func testLeftoverCleanupTouchesOnlyThisHostsDeadWriters() throws {
        let dead = deadProcessID()
        let host = TemporaryOwner.hostTag
        let removed = [".results.json.tmp-\(host)-\(dead)-1a2b", ".model.safetensors.tmp-\(dead)-ff"]
        let kept = [
            ".results.json.tmp-other_node.example-\(dead)-1a2b",  // another host: maybe a live writer
            ".results.json.tmp-\(host)-\(getpid())-77",  // this process
            "results.json", "notes.tmp-1-2",
        ]
        for name in removed + kept {
            XCTAssertTrue(
                FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data()))
        }
        XCTAssertEqual(AtomicFile.removeLeftovers(under: directory), removed.count)
        XCTAssertEqual(try contents(), kept.sorted())
    }

    /// `create` writes a new file whole, and leaves an existing one alone (the first writer of study.json wins).
    func testCreateIsExclusive() throws {
        let url = directory.appendingPathComponent("study.json")
        XCTAssertTrue(try AtomicFile.create(Data("first".utf8), at: url))
        XCTAssertFalse(try AtomicFile.create(Data("second".utf8), at: url))
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "first")
        XCTAssertEqual(try contents(), ["study.json"], "no temporary file left")
    }
}
