import Kernel
import XCTest

/// Asserts that `run` (which computes some outputs and gradients) gives bitwise identical values on 1 and on
/// 3 threads, restoring `Parallel.threads` afterwards.
func assertSameOnOneAndThreeThreads(_ run: () -> [[Float]], file: StaticString = #filePath, line: UInt = #line) {
    let saved = Parallel.threads
    defer { Parallel.threads = saved }
    Parallel.threads = 1
    let one = run()
    Parallel.threads = 3
    XCTAssertEqual(one, run(), "results differ between 1 and 3 threads", file: file, line: line)
}
