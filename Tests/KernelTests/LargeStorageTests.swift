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

    /// Memory a freed storage left dirty (NaN here) never reaches a result: the loss's logits chunk and an
    /// embedding's gradient, each one large block, give the same bits on reused dirty blocks as on fresh ones.
    func testReusedDirtyBlocksNeverReachResults() {
        let rows = 128
        let v = StorageTesting.largeMinimumBytes / 4 / rows  // one chunk of logits fills one large block
        var rng = TestRandom(74)
        let hidden = rng.tensor([rows, 8], scale: 1)
        let weight = rng.tensor([v, 8], scale: 0.3)
        let targets = (0..<rows).map { Int32(($0 * 7919) % v) }
        let table = rng.tensor([v, 128], scale: 1)  // its gradient is one large block too
        let ids: [Int32] = [3, 5, 3, Int32(v - 1)]
        func run() -> [[Float]] {
            for t in [hidden, weight, table] { t.grad = nil }
            let loss = linearCrossEntropy(hidden, weight: weight, targets: targets)
            loss.backward()
            embedding(table, ids: ids).sum().backward()
            return [[loss.item], hidden.grad!.array, weight.grad!.array, table.grad!.array]
        }
        StorageTesting.releaseKeptLargeBlocks()
        let fresh = run()
        for _ in 0..<2 {
            // Leave NaN-filled blocks for the large storages the run allocates (logits, the table's gradient).
            var dirty = [rows * v, v * 128].map { Storage(uninitializedCount: $0) }
            for s in dirty { s.pointer.update(repeating: .nan, count: s.count) }
            dirty.removeAll()
            let reused = run()
            for (i, (a, b)) in zip(fresh, reused).enumerated() {
                XCTAssertTrue(a.elementsEqual(b) { $0.bitPattern == $1.bitPattern }, "result \(i) differs")
            }
        }
    }
}
