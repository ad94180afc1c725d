import XCTest
import Dispatch
@testable import Kernel

final class ZZScratchPerf: XCTestCase {
    func testKernelSpeed() {
        for kernel in [GemmMicrokernel.wide] {
            for kc in [96, 128, 160, 192, 256, 384] {
                let a = UnsafeMutableRawPointer.allocate(byteCount: 6 * kc * 4, alignment: 64).bindMemory(to: Float.self, capacity: 6 * kc)
                let bCount = 64 * kc * 16
                let b = UnsafeMutableRawPointer.allocate(byteCount: bCount * 4, alignment: 64).bindMemory(to: Float.self, capacity: bCount)
                let c = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 1024)
                for i in 0..<(6 * kc) { a[i] = 0.001 }
                for i in 0..<bCount { b[i] = 0.001 }
                for i in 0..<(6 * 1024) { c[i] = 0 }
                var best = 1e9
                for _ in 0..<20 {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<10 {
                        var j = 0
                        while j < 1024 { // 16 panels of 64 columns
                            kernel.run(kc: kc, a: a, b: b + j * kc, c: c + j, ldc: 1024, alpha: 1, beta: 1)
                            j += kernel.width
                        }
                    }
                    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                    best = min(best, dt)
                }
                var best2 = 1e9
                let aBig = UnsafeMutableRawPointer.allocate(byteCount: 6 * kc * 4 * 64, alignment: 64).bindMemory(to: Float.self, capacity: 6 * kc * 64)
                for i in 0..<(6 * kc * 64) { aBig[i] = 0.001 }
                for _ in 0..<20 {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<10 {
                        for r in 0..<16 {
                            for jr in 0..<1 {
                                kernel.run(kc: kc, a: aBig + r * 6 * kc, b: b + jr * 64 * kc, c: c + 64 * jr, ldc: 1024, alpha: 1, beta: 1)
                            }
                        }
                    }
                    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                    best2 = min(best2, dt)
                }
                print("B-in-L1 kc=\(kc): \(String(format: "%.1f", 10 * 2.0 * 6 * 1024 * Double(kc) / best2 / 1e9))")
                print("kernel \(kernel.name) kc=\(kc): \(String(format: "%.1f", 10 * 2.0 * 6 * 1024 * Double(kc) / best / 1e9)) GFLOP/s (best)")
            }
        }
    }
}
