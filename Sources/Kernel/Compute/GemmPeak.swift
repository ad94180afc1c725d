import Foundation

extension Gemm {
    /// One core's floating-point peak in this build and arithmetic mode (`GemmArithmetic.active`), in GFLOP/s:
    /// the yardstick for `sgemm`'s speed.
    ///
    /// Twelve independent chains `acc = z + acc * y` (12 vectors + 2 operands: fits the 16 registers of
    /// SSE/AVX2) run for a few milliseconds, counting 2 float operations per lane per step. With FMA each step
    /// is one `vfmadd` (latency 4 cycles, so 12 chains keep two FMA units busy); without, a multiply and an
    /// add. Each vector width (`SIMD16`, `SIMD8`, `SIMD4`) is tried, since which is the widest register
    /// depends on the build target (`SIMD16` is one zmm with AVX-512, two ymm with AVX2, and spills on SSE);
    /// the result is the fastest width's median of `samples` runs of about `seconds` of CPU time each.
    public static func peakGflops(seconds: Double = 0.01, samples: Int = 5) -> Double {
        switch GemmArithmetic.active {
        case .fused: return peak(GemmFusedMultiplyAdd.self, seconds: seconds, samples: samples)
        case .separate: return peak(GemmSeparateMultiplyAdd.self, seconds: seconds, samples: samples)
        }
    }

    private static func peak<M: GemmMultiplyAdd>(_: M.Type, seconds: Double, samples: Int) -> Double {
        func median<V: SIMD>(_: V.Type) -> Double where V.Scalar == Float {
            // Calibrate the step count on a short run, then time the samples.
            var steps = 1 << 12
            while Double(chains(M.self, V.self, steps: steps)) < seconds * 1e8 { steps *= 2 }  // 10% of `seconds`
            steps *= 10
            var rates: [Double] = []
            for _ in 0..<max(1, samples) {
                let nanoseconds = Double(max(1, chains(M.self, V.self, steps: steps)))
                rates.append(Double(steps) * 12 * 2 * Double(V.scalarCount) / nanoseconds)
            }
            return rates.sorted()[rates.count / 2]
        }
        return max(median(SIMD16<Float>.self), median(SIMD8<Float>.self), median(SIMD4<Float>.self))
    }

    /// Nanoseconds of this thread's CPU time (not wall time: on a shared machine the thread may wait for a
    /// core, which says nothing about the core's speed).
    static func threadNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Thread CPU nanoseconds for `steps` steps of the twelve chains.
    @inline(never)
    private static func chains<M: GemmMultiplyAdd, V: SIMD>(_: M.Type, _: V.Type, steps: Int) -> UInt64
    where V.Scalar == Float {
        let y = V(repeating: 0.999)
        let z = V(repeating: 1e-3)  // each chain tends to z / (1 - y) = 1: no overflow
        var a0 = V(repeating: 0.5)
        var a1 = a0
        var a2 = a0
        var a3 = a0
        var a4 = a0
        var a5 = a0
        var a6 = a0
        var a7 = a0
        var a8 = a0
        var a9 = a0
        var a10 = a0
        var a11 = a0
        let start = threadNanoseconds()
        for _ in 0..<steps {
            a0 = M.multiplyAdd(z, a0, y)
            a1 = M.multiplyAdd(z, a1, y)
            a2 = M.multiplyAdd(z, a2, y)
            a3 = M.multiplyAdd(z, a3, y)
            a4 = M.multiplyAdd(z, a4, y)
            a5 = M.multiplyAdd(z, a5, y)
            a6 = M.multiplyAdd(z, a6, y)
            a7 = M.multiplyAdd(z, a7, y)
            a8 = M.multiplyAdd(z, a8, y)
            a9 = M.multiplyAdd(z, a9, y)
            a10 = M.multiplyAdd(z, a10, y)
            a11 = M.multiplyAdd(z, a11, y)
        }
        let elapsed = threadNanoseconds() - start
        let total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
        return total.sum() == .infinity ? 0 : elapsed  // uses the sums, so the loop stays
    }
}
