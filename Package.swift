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
        .library(name: "HFTokenizers", targets: ["HFTokenizers"]),
        .library(name: "Transformer", targets: ["Transformer"]),
        .library(name: "TinyLLaVA", targets: ["TinyLLaVA"]),
        .library(name: "SkillSuite", targets: ["SkillSuite"]),
        .library(name: "JSONLBenchmark", targets: ["JSONLBenchmark"]),
        .library(name: "HFCausalLM", targets: ["HFCausalLM"]),
        .library(name: "ChatTemplate", targets: ["ChatTemplate"]),
        .library(name: "ComponentTuning", targets: ["ComponentTuning"]),
        .library(name: "LoRA", targets: ["LoRA"]),
        .library(name: "LwF", targets: ["LwF"]),
        .library(name: "WiSEFT", targets: ["WiSEFT"]),
        .library(name: "MoE", targets: ["MoE"]),
        .library(name: "Host", targets: ["Host"]),
        .executable(name: "skilltune", targets: ["skilltune"]),
    ],
    targets: [
        // The shared language: tensors, autograd, kernels, optimizer, files, protocols, registry, metrics.
        .target(name: "Kernel", path: "Sources/Kernel"),

        // Backbones: one module per model family, plus what they share.
        .target(name: "HFTokenizers", dependencies: ["Kernel"], path: "Sources/Backbones/Tokenizers"),
        .target(name: "Transformer", dependencies: ["Kernel"], path: "Sources/Backbones/Transformer"),
        .target(name: "TinyLLaVA", dependencies: ["Kernel", "Transformer"], path: "Sources/Backbones/TinyLLaVA"),
        .target(name: "ChatTemplate", dependencies: ["Kernel"], path: "Sources/Backbones/ChatTemplate"),
        .target(
            name: "HFCausalLM", dependencies: ["Kernel", "Transformer", "HFTokenizers", "ChatTemplate"],
            path: "Sources/Backbones/HFCausalLM"),

        // Benchmarks: the procedural skill suite and users' own JSON Lines data.
        .target(name: "SkillSuite", dependencies: ["Kernel"], path: "Sources/Benchmarks/SkillSuite"),
        .target(name: "JSONLBenchmark", dependencies: ["Kernel"], path: "Sources/Benchmarks/JSONL"),

        // Strategies: one module per recipe family (see paper.md, "The recipes compared").
        .target(name: "ComponentTuning", dependencies: ["Kernel"], path: "Sources/Strategies/ComponentTuning"),
        .target(name: "LoRA", dependencies: ["Kernel"], path: "Sources/Strategies/LoRA"),
        .target(name: "LwF", dependencies: ["Kernel", "ComponentTuning"], path: "Sources/Strategies/LwF"),
        .target(name: "WiSEFT", dependencies: ["Kernel", "ComponentTuning"], path: "Sources/Strategies/WiSEFT"),
        .target(name: "MoE", dependencies: ["Kernel", "Transformer"], path: "Sources/Strategies/MoE"),

        // The host: the library a user embeds (registries, the study runner, probes, results, reports, tuning runs),
        // with the default study's pretrained base model as a resource (Resources/base, see ShippedBase).
        .target(
            name: "Host",
            dependencies: [
                "Kernel", "Transformer", "TinyLLaVA", "HFCausalLM", "ChatTemplate", "SkillSuite", "JSONLBenchmark",
                "LoRA", "ComponentTuning", "LwF", "WiSEFT", "MoE",
            ], path: "Sources/Host", resources: [.copy("Resources/base")]),
        // The command-line tool: its argument framework, commands, speed benchmarks and fuzzing. An embedding
        // package links Host only.
        .target(
            name: "SkillTuneCLI",
            dependencies: [
                "Host", "Kernel", "Transformer", "TinyLLaVA", "HFCausalLM", "HFTokenizers", "ChatTemplate",
                "SkillSuite", "JSONLBenchmark", "LoRA",
            ], path: "Sources/SkillTuneCLI"),
        .executableTarget(name: "skilltune", dependencies: ["SkillTuneCLI"], path: "Sources/skilltune"),

        // Examples: programs that use only the public API, each run end to end by ExamplesTests.
        .executableTarget(name: "CompareRecipes", dependencies: ["Host"], path: "examples/CompareRecipes"),
        .executableTarget(name: "CustomStrategy", dependencies: ["Host", "Kernel"], path: "examples/CustomStrategy"),
        .executableTarget(
            name: "CountingBiasProbe", dependencies: ["Host", "Kernel"], path: "examples/CountingBiasProbe"),
        .executableTarget(name: "TuneYourModel", dependencies: ["Host", "Kernel"], path: "examples/TuneYourModel"),

        .testTarget(name: "KernelTests", dependencies: ["Kernel"], path: "Tests/KernelTests", exclude: ["Fixtures"]),
        .testTarget(name: "HFTokenizersTests", dependencies: ["HFTokenizers"], path: "Tests/HFTokenizersTests"),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "Kernel"], path: "Tests/TransformerTests"),
        .testTarget(
            name: "TinyLLaVATests", dependencies: ["TinyLLaVA", "Transformer", "Kernel"], path: "Tests/TinyLLaVATests"),
        .testTarget(
            name: "StrategiesTests",
            dependencies: [
                "ComponentTuning", "LoRA", "LwF", "WiSEFT", "MoE", "TinyLLaVA", "HFCausalLM", "Transformer", "Kernel",
            ],
            path: "Tests/StrategiesTests"),
        .testTarget(
            name: "HFCausalLMTests", dependencies: ["HFCausalLM", "Transformer", "HFTokenizers", "Kernel"],
            path: "Tests/HFCausalLMTests"),
        .testTarget(
            name: "ChatTemplateTests", dependencies: ["ChatTemplate", "Kernel"], path: "Tests/ChatTemplateTests",
            exclude: ["Fixtures"]),
        .testTarget(name: "SkillSuiteTests", dependencies: ["SkillSuite", "Kernel"], path: "Tests/SkillSuiteTests"),
        .testTarget(
            name: "JSONLBenchmarkTests", dependencies: ["JSONLBenchmark", "SkillSuite", "Kernel"],
            path: "Tests/JSONLBenchmarkTests",
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ExamplesTests",
            dependencies: ["CompareRecipes", "CustomStrategy", "CountingBiasProbe", "TuneYourModel"],
            path: "Tests/ExamplesTests"),
        .testTarget(
            name: "HostTests",
            dependencies: ["Host", "SkillTuneCLI", "Kernel", "TinyLLaVA", "HFCausalLM", "LoRA", "Transformer"],
            path: "Tests/HostTests"),
        // Faults and hostile input: kills and Ctrl-C of the real `skilltune` process, fuzzing, numerical faults.
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["skilltune", "SkillTuneCLI", "Host", "Kernel", "TinyLLaVA", "HFCausalLM", "HFTokenizers"],
            path: "Tests/ReliabilityTests"),
    ],
    swiftLanguageModes: [.v5]
)
