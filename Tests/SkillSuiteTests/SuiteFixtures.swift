import Kernel
import SkillSuite

/// Examples shared by the suite tests, generated once per process (seed 7): 600 train and 300 eval per task.
enum SuiteFixtures {
    static let trainCount = 600
    static let evalCount = 300
    nonisolated(unsafe) private static var cache: [String: (train: [Example], eval: [Example])] = [:]

    static func examples(_ benchmark: any Benchmark) -> (train: [Example], eval: [Example]) {
        if let hit = cache[benchmark.name] { return hit }
        let value = (
            train: try! benchmark.examples(.train, count: trainCount, seed: 7),
            eval: try! benchmark.examples(.eval, count: evalCount, seed: 7)
        )
        cache[benchmark.name] = value
        return value
    }

    /// FNV-1a of an image's bytes, for set comparisons.
    static func fingerprint(_ image: Image?) -> UInt64 {
        guard let image else { return 0 }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in image.pixels { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h ^ UInt64(image.width) << 48
    }
}
