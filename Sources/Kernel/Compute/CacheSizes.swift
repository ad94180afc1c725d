import Foundation

/// This machine's data cache sizes, for blocking `Gemm` (read once per process).
///
/// Linux: `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size}`; macOS: `hw.l2cachesize` (`sysctl`);
/// otherwise, or when the value is missing or absurd, 512 KB for L2 (the smallest L2 of the AVX2 and ARM cores
/// our users run: Zen 2-4, Apple's efficiency cores have more). Blocking by the wrong size only costs speed,
/// never a value.
enum CacheSizes {
    static let fallbackLevel2 = 512 * 1024

    /// Bytes of the level-2 (per-core) data or unified cache, between 128 KB and 8 MB.
    static let level2: Int = {
        let bytes = readLevel2() ?? fallbackLevel2
        return (128 * 1024...8 * 1024 * 1024).contains(bytes) ? bytes : fallbackLevel2
    }()

    private static func readLevel2() -> Int? {
        #if os(Linux)
            for index in 0..<8 {
                let folder = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
                func read(_ name: String) -> String? {
                    (try? String(contentsOfFile: folder + name, encoding: .utf8))?.trimmingCharacters(
                        in: .whitespacesAndNewlines)
                }
                guard let level = read("level") else { break }
                guard level == "2", read("type") != "Instruction", let size = read("size") else { continue }
                return parseSize(size)
            }
            return nil
        #elseif canImport(Darwin)
            var value: Int64 = 0
            var length = MemoryLayout<Int64>.size
            guard sysctlbyname("hw.l2cachesize", &value, &length, nil, 0) == 0, value > 0 else { return nil }
            return Int(value)
        #else
            return nil
        #endif
    }

    /// "1280K" -> 1310720, "2M" -> 2097152, "524288" -> 524288; nil for anything else.
    static func parseSize(_ text: String) -> Int? {
        let multiplier: Int
        var digits = Substring(text)
        switch text.last {
        case "K", "k": multiplier = 1024
        case "M", "m": multiplier = 1024 * 1024
        default: multiplier = 1
        }
        if multiplier != 1 { digits = digits.dropLast() }
        guard let value = Int(digits), value > 0, value < 1 << 40 else { return nil }
        return value * multiplier
    }
}
