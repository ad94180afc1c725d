import Kernel
import LoRA
import TinyLLaVA
import XCTest

/// What every registered strategy must do: freeze what it does not train (no gradient, no optimizer state,
/// same bits after a stage), report its counts, install its modules idempotently, and reject bad input clearly.
final class AllStrategiesTests: XCTestCase {
    /// Options that make each strategy runnable and its frozen set fixed through the stage (LoRA unmerged).
    static let runnableOptions: [String: [String: String]] = [
        "components": ["trainable": #"self_attn\.o_proj"#],
        "lora": ["merge": "false"],
    ]

    static let expectedNames = [
        "components", "full", "llm", "lora", "lwf", "mlp", "mlp-down", "mlp-gate-up", "moe",
        "projector", "sa-proj", "sa-qkv", "vision", "wise-ft",
    ]

    func testEveryStudyRecipeIsRegistered() throws {
        let registry = try Fixture.registry()
        XCTAssertEqual(registry.names, Self.expectedNames)
        for entry in registry.entries { XCTAssertFalse(entry.summary.isEmpty, entry.name) }
        XCTAssertEqual(
            try registry.entry(named: "lora").options?.components(separatedBy: "\n").first,
            "rank=8: adapter rank r (the study: 256)")
    }

    func testFrozenParametersGetNoGradientNoOptimizerStateAndKeepTheirBits() throws {
        let registry = try Fixture.registry()
        for name in registry.names {
            let options = Self.runnableOptions[name] ?? [:]
            // Gradients and optimizer state right after prepare.
            let m = try Fixture.model()
            let strategy = try registry.make(name)(options)
            try strategy.prepare(m, stage: Fixture.stage())
            let trainable = Set(m.trainableParameters.map(\.name))
            XCTAssertFalse(trainable.isEmpty, name)
            if name != "full" { XCTAssertLessThan(trainable.count, m.namedParameters().count, name) }
            let optimizer = AdamW(parameters: m.namedParameters(), weightDecay: 0)
            XCTAssertEqual(
                Set(optimizer.trainableNames), trainable, "\(name): optimizer state only for trainable parameters")
            m.setTraining(true)
            strategy.loss(m, batch: Fixture.batch(for: m), stage: Fixture.stage()).backward()
            for (parameter, t) in m.namedParameters() {
                if trainable.contains(parameter) {
                    XCTAssertNotNil(t.grad, "\(name): trainable \(parameter) got no gradient")
                } else {
                    XCTAssertNil(t.grad, "\(name): frozen \(parameter) got a gradient")
                }
            }
            // Bits after a whole stage through StageTrainer.
            let fresh = try Fixture.model()
            let before = fresh.parameterSnapshot()
            let runner = try registry.make(name)(options)
            try Fixture.runStage(fresh, runner, steps: 2)
            if name != "full" { assertUnchanged(fresh, except: trainable, before: before, name) }
        }
    }

    func testInstallModulesIsIdempotent() throws {
        let registry = try Fixture.registry()
        for name in registry.names {
            let strategy = try registry.make(name)(Self.runnableOptions[name] ?? [:])
            let m = try Fixture.model()
            try strategy.installModules(m, stage: Fixture.stage())
            let once = m.namedParameters().map(\.name)
            let values = m.parameterSnapshot()
            try strategy.installModules(m, stage: Fixture.stage(2))
            XCTAssertEqual(m.namedParameters().map(\.name), once, name)
            for (n, t) in m.namedParameters() { XCTAssertEqual(t.array, values[n]!.array, "\(name): \(n)") }
            // prepare after installModules adds nothing more.
            try strategy.prepare(m, stage: Fixture.stage())
            let prepared = m.namedParameters().map(\.name)
            if name == "moe" || name == "lora" { XCTAssertEqual(prepared, once, name) }
        }
    }

    func testTrainableCountsOnSmallAreReported() throws {
        let registry = try Fixture.registry()
        var lines: [String] = []
        for name in registry.names {
            let m = try Fixture.model("small")
            try registry.make(name)(Self.runnableOptions[name] ?? [:]).prepare(m, stage: Fixture.stage())
            let (trainable, total) = m.parameterCounts
            lines.append(
                "\(name) on tiny-llava small: \(trainable) of \(total) trainable, "
                    + String(format: "%.2f%%", 100 * Double(trainable) / Double(total)))
        }
        print("Trainable parameter counts:\n  " + lines.joined(separator: "\n  "))
        XCTAssertEqual(lines.count, Self.expectedNames.count)
    }

    func testUnknownStrategyNamesListWhatIsRegistered() throws {
        let registry = try Fixture.registry()
        XCTAssertThrowsError(try registry.make("sa-porj")) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown strategy \"sa-porj\". Did you mean \"sa-proj\"? Registered: "
                    + Self.expectedNames.joined(separator: ", ") + ".")
        }
    }

    func testBadOptionsAreClearErrorsListingWhatIsValid() throws {
        let registry = try Fixture.registry()
        func message(_ name: String, _ options: [String: String]) -> String {
            do {
                _ = try registry.make(name)(options)
                return "no error"
            } catch {
                XCTAssertNotNil(error as? StrategyOptionError, "\(name) \(options): \(error)")
                return "\(error)"
            }
        }
        XCTAssertEqual(
            message("lora", ["rnak": "4"]),
            "strategy 'lora' has no option 'rnak'. Did you mean 'rank'? Valid options: rank (default 8), alpha (default 8), "
                + "dropout (default 0.05), targets (default gate_proj,up_proj,down_proj), merge (default true), "
                + "lr-scale (default 10), adapter-dir (default empty).")
        XCTAssertEqual(
            message("sa-proj", ["rank": "4"]), "strategy 'sa-proj' has no option 'rank'. It takes no options.")
        XCTAssertEqual(
            message("lora", ["rank": "-4"]),
            "strategy 'lora': option rank=-4 is not valid; expected a whole number >= 1.")
        XCTAssertEqual(
            message("lora", ["rank": "2.5"]),
            "strategy 'lora': option rank=2.5 is not valid; expected a whole number >= 1.")
        XCTAssertEqual(
            message("lora", ["dropout": "1"]),
            "strategy 'lora': option dropout=1 is not valid; expected a number in [0, 1).")
        XCTAssertEqual(
            message("lora", ["merge": "maybe"]),
            "strategy 'lora': option merge=maybe is not valid; expected true or false.")
        XCTAssertEqual(
            message("wise-ft", ["alpha": "1.5"]),
            "strategy 'wise-ft': option alpha=1.5 is not valid; expected a number in [0, 1].")
        XCTAssertEqual(
            message("wise-ft", ["alpha": "nan"]),
            "strategy 'wise-ft': option alpha=nan is not valid; expected a number in [0, 1].")
        XCTAssertEqual(message("lwf", ["T": "0"]), "strategy 'lwf': option T=0 is not valid; expected a number > 0.")
        XCTAssertEqual(
            message("lwf", ["lambda": "-1"]), "strategy 'lwf': option lambda=-1 is not valid; expected a number >= 0.")
        XCTAssertEqual(
            message("lwf", ["trainable": "mlp-up"]),
            "strategy 'lwf': option trainable=mlp-up is not valid; expected a component recipe: "
                + "full, llm, vision, projector, sa-proj, sa-qkv, mlp, mlp-gate-up, mlp-down.")
        XCTAssertEqual(
            message("moe", ["original-prior": "0.4"]),
            "strategy 'moe': option original-prior=0.4 is not valid; expected a number > 0.5 and < 1.")
        XCTAssertEqual(
            message("components", [:]),
            "strategy 'components': option trainable=(empty) is not valid; expected one or more regular expressions "
                + "on parameter names, separated by commas (e.g. trainable=self_attn.(q|v)_proj,mlp.down_proj).")
        // Defaults are recorded with the values in force.
        let lwf = try registry.make("lwf")(["T": "4"])
        XCTAssertEqual(lwf.options.map(\.name), ["lambda", "T", "trainable", "vision-lr-scale"])
        XCTAssertEqual(
            lwf.options[1], StrategyOption(name: "T", value: "4", defaultValue: "2", help: lwf.options[1].help))
    }
}
