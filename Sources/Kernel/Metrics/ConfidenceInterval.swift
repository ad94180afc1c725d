import Foundation

/// The mean of a few measurements (one per seed) and its 95% confidence interval, from Student's t distribution:
///
///     mean ± t(0.975, n − 1) · s / √n,   s² = Σ (xᵢ − mean)² / (n − 1)
///
/// With one measurement there is no interval (`halfWidth` is nil). Non-finite values are left out.
public struct ConfidenceInterval: Codable, Equatable, Sendable {
    public var mean: Double
    /// t · s / √n; nil for fewer than two measurements.
    public var halfWidth: Double?
    /// The number of measurements.
    public var count: Int

    public var low: Double? { halfWidth.map { mean - $0 } }
    public var high: Double? { halfWidth.map { mean + $0 } }

    public init(mean: Double, halfWidth: Double?, count: Int) {
        self.mean = mean
        self.halfWidth = halfWidth
        self.count = count
    }

    /// The interval of `values` (nil when none is finite).
    public init?(_ values: [Double]) {
        let x = values.filter(\.isFinite)
        guard !x.isEmpty else { return nil }
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        guard x.count > 1 else {
            self.init(mean: mean, halfWidth: nil, count: 1)
            return
        }
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        self.init(
            mean: mean,
            halfWidth: Self.studentT975(degreesOfFreedom: x.count - 1) * variance.squareRoot() / n.squareRoot(),
            count: x.count)
    }

    /// The 97.5% quantile of Student's t distribution (two-sided 95%), to three decimals: tabulated for 1...30
    /// degrees of freedom, 40, 60 and 120; between those, the value at the tabulated count below (a slightly wider,
    /// conservative interval).
    public static func studentT975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1, "Student's t needs at least one degree of freedom")
        let table = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
        ]
        if df <= table.count { return table[df - 1] }
        if df < 40 { return table[table.count - 1] }
        if df < 60 { return 2.021 }
        return df < 120 ? 2.000 : 1.980
    }
}
