// swift-tools-version:6.0
// SkillTune: teach transformer and multimodal models new skills without forgetting, and measure it.
// No package dependencies and no unsafe flags, so that any package can depend on this one.
// For speed, build with `-c release -Xswiftc -target-cpu -Xswiftc native` (see README).
import PackageDescription

let package = Package(
    name: "SkillTune",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Kernel", targets: ["Kernel"]),
        .library(name: "Host", targets: ["Host"]),
        .library(name: "SkillSuite", targets: ["SkillSuite"]),
        .library(name: "JSONLBenchmark", targets: ["JSONLBenchmark"]),
        .executable(name: "skilltune", targets: ["skilltune"]),
    ],
    targets: [
        .target(name: "Kernel", path: "Sources/Kernel"),
        .target(name: "Host", dependencies: ["Kernel"], path: "Sources/Host"),
        .target(name: "SkillSuite", dependencies: ["Kernel"], path: "Sources/Benchmarks/SkillSuite"),
        .target(name: "JSONLBenchmark", dependencies: ["Kernel"], path: "Sources/Benchmarks/JSONL"),
        .executableTarget(name: "skilltune", dependencies: ["Host"], path: "Sources/skilltune"),
        .testTarget(
            name: "KernelTests", dependencies: ["Kernel"], path: "Tests/KernelTests",
            exclude: ["Fixtures"]),
        .testTarget(name: "SkillSuiteTests", dependencies: ["SkillSuite", "Kernel"], path: "Tests/SkillSuiteTests"),
        .testTarget(
            name: "JSONLBenchmarkTests", dependencies: ["JSONLBenchmark", "SkillSuite", "Kernel"], path: "Tests/JSONLBenchmarkTests",
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
