import Foundation

/// A seeded, portable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same stream on every machine and thread count. Use `fork(_:)` to derive an
/// independent stream for a named purpose ("init", "data", "dropout"...) so that adding draws in one place
/// does not shift the numbers used elsewhere.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// An independent generator for `purpose`, derived from this generator's seed (not its position).
    public func fork(_ purpose: String) -> RandomGenerator {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a, stable across runs (unlike Hasher)
        for b in purpose.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return RandomGenerator(seed: seed ^ h)
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal (Box-Muller, computed in Double).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Writes `normal() * scale` for `count` successive draws into `destination`: exactly the values (and the
    /// generator state afterwards) of calling `normal()` that many times, but faster for large tensors (the
    /// random bits are drawn in order, then the log/cos work is split over the threads).
    public mutating func fillNormal(_ destination: UnsafeMutablePointer<Float>, count: Int, scale: Float = 1) {
        let block = 1 << 16
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * min(count, block))
        defer { bits.deallocate() }
        var start = 0
        while start < count {
            let n = min(block, count - start)
            for i in 0..<(2 * n) { bits[i] = next() }
            let out = destination + start
            Parallel.forRanges(n, minimumPerChunk: 4096) { range in
                for i in range {
                    let u1 = max(Double(bits[2 * i] >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
                    let u2 = Double(bits[2 * i + 1] >> 11) * (1.0 / 9_007_199_254_740_992.0)
                    out[i] = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)) * scale
                }
            }
            start += n
        }
    }

    /// Uniform integer in 0..<bound (unbiased).
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0, "RandomGenerator.int(below:) needs a positive bound, got \(bound)")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// A Fisher-Yates shuffle that depends only on this generator's stream.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }
}
