/// The name data file benchmarks had when they read SkillTune JSON Lines only; every format loads through it.
public typealias JSONLBenchmark = DataFileBenchmark
