import Kernel
import XCTest

/// Large storages reuse the memory of freed ones of about the same size, within a bounded amount kept.
final class LargeStorageTests: XCTestCase {
    /// A size no other test uses, so no block kept by another test fits it.
    let floats = (StorageTesting.largeMinimumBytes + 37 * (2 << 20)) / 4 + 5

    override func setUp() { StorageTesting.releaseKeptLargeBlocks() }
    override func tearDown() { StorageTesting.releaseKeptLargeBlocks() }

    func testFreedLargeStorageIsReusedBySameSize() {
        var first: Storage? = Storage(uninitializedCount: floats)
        let address = first!.pointer
        first = nil
        let second = Storage(uninitializedCount: floats - 100)
        XCTAssertEqual(second.pointer, address, "a request of the same block size reuses the freed block")
        XCTAssertEqual(second.count, floats - 100)
        // Zero-filled storages come from the same blocks and are still zero-filled.
        var third: Storage? = Storage(uninitializedCount: floats)
        third!.pointer.update(repeating: 7, count: floats)
        let thirdAddress = third!.pointer
        third = nil
        let zeros = Storage(count: floats)
        XCTAssertEqual(zeros.pointer, thirdAddress)
        XCTAssertTrue((0..<floats).allSatisfy { zeros.pointer[$0] == 0 })
        XCTAssertEqual(StorageTesting.keptLargeBytes, 0)
    }

    func testMuchSmallerRequestDoesNotTakeALargeBlock() {
        var big: Storage? = Storage(uninitializedCount: floats * 2)
        let address = big!.pointer
        big = nil
        let kept = StorageTesting.keptLargeBytes
        XCTAssertGreaterThanOrEqual(kept, floats * 8)
        let small = Storage(uninitializedCount: floats)
        XCTAssertNotEqual(small.pointer, address, "a block more than 4/3 of the request is left for a larger one")
        XCTAssertEqual(StorageTesting.keptLargeBytes, kept, "the larger block stays kept")
        let again = Storage(uninitializedCount: floats * 2)
        XCTAssertEqual(again.pointer, address)
    }

    func testKeptBytesStayWithinTheLimit() {
        // Freed storages of various sizes (never written, so never resident) adding up to more than the limit.
        let limit = StorageTesting.keptLargeBytesLimit
        var storages: [Storage] = []
        var total = 0
        var i = 0
        while total <= limit + StorageTesting.largeMinimumBytes {
            let bytes = StorageTesting.largeMinimumBytes + i * (5 << 20)
            storages.append(Storage(uninitializedCount: bytes / 4))
            total += bytes
            i += 1
        }
        storages.removeAll()
        XCTAssertLessThanOrEqual(StorageTesting.keptLargeBytes, limit)
        XCTAssertGreaterThan(StorageTesting.keptLargeBytes, limit / 2)
    }
}
