import ComponentTuning
import Kernel
import TinyLLaVA
import XCTest

final class ComponentTuningTests: XCTestCase {
    /// (recipe, trainable parameter names, trainable elements) on the tiny preset (26,624 parameters in all).
    static let tinyCounts: [(String, Int, Int)] = [
        ("full", 51, 26_624), ("llm", 26, 19_424), ("vision", 21, 5_600), ("projector", 4, 1_600),
        ("sa-proj", 14, 6_272), ("sa-qkv", 12, 4_224), ("mlp", 6, 12_288), ("mlp-gate-up", 4, 8_192),
        ("mlp-down", 2, 4_096),
    ]

    func testExactTrainableSetsOnTheTinyPreset() throws {
        let registry = try Fixture.registry()
        for (recipe, names, elements) in Self.tinyCounts {
            let m = try Fixture.model()
            try registry.make(recipe)([:]).prepare(m, stage: Fixture.stage())
            XCTAssertEqual(m.trainableParameters.count, names, recipe)
            XCTAssertEqual(m.parameterCounts.trainable, elements, recipe)
            XCTAssertEqual(m.parameterCounts.total, 26_624, recipe)
        }
        func trainable(_ recipe: String) throws -> [String] {
            let m = try Fixture.model()
            try registry.make(recipe)([:]).prepare(m, stage: Fixture.stage())
            return m.trainableParameters.map(\.name)
        }
        XCTAssertEqual(
            try trainable("sa-proj"),
            (0..<2).flatMap { i in
                [
                    "q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias",
                    "o_proj.weight",
                ]
                .map { "model.layers.\(i).self_attn.\($0)" }
            })
        XCTAssertEqual(
            try trainable("mlp-down"), ["model.layers.0.mlp.down_proj.weight", "model.layers.1.mlp.down_proj.weight"])
        XCTAssertEqual(
            try trainable("mlp-gate-up"),
            [
                "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                "model.layers.1.mlp.gate_proj.weight", "model.layers.1.mlp.up_proj.weight",
            ])
        XCTAssertEqual(
            try trainable("projector"),
            ["mm_projector.0.weight", "mm_projector.0.bias", "mm_projector.2.weight", "mm_projector.2.bias"])
        // The vision tower's own self_attn and mlp never count as decoder components.
        for recipe in ["sa-proj", "sa-qkv", "mlp", "mlp-gate-up", "mlp-down", "llm"] {
            XCTAssertFalse(try trainable(recipe).contains { $0.hasPrefix("vision_tower.") }, recipe)
        }
        XCTAssertTrue(try trainable("vision").allSatisfy { $0.hasPrefix("vision_tower.") })
    }

    func testLLMIncludesTheUntiedHead() throws {
        let m = try Fixture.model("quick")
        try ComponentTuning(recipe: .llm).prepare(m, stage: Fixture.stage())
        let names = m.trainableParameters.map(\.name)
        XCTAssertTrue(names.contains("lm_head.weight"))
        XCTAssertTrue(names.contains("model.embed_tokens.weight"))
        XCTAssertEqual(
            names.count,
            m.namedParameters().filter { !$0.name.hasPrefix("vision_tower.") && !$0.name.hasPrefix("mm_projector.") }
                .count)
    }

    func testComponentsTakesSeveralPatterns() throws {
        let m = try Fixture.model()
        let strategy = try ComponentTuning(patternOptions: [
            "trainable": #"self_attn.(q|v)_proj,^model\.layers\.[0-9]{1,2}\.mlp\.down_proj"#
        ])
        try strategy.prepare(m, stage: Fixture.stage())
        let names = m.trainableParameters.map(\.name)
        // Unanchored patterns also match the vision tower's q/v projections: the user's patterns are taken as written.
        XCTAssertEqual(
            names.filter { $0.hasPrefix("model.") },
            [
                "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
                "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.v_proj.bias",
                "model.layers.0.mlp.down_proj.weight",
                "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.bias",
                "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.v_proj.bias",
                "model.layers.1.mlp.down_proj.weight",
            ])
        XCTAssertEqual(names.filter { $0.hasPrefix("vision_tower.") }.count, 4)
        XCTAssertEqual(
            strategy.options.first { $0.name == "trainable" }?.value,
            #"self_attn.(q|v)_proj,^model\.layers\.[0-9]{1,2}\.mlp\.down_proj"#)
        XCTAssertEqual(splitPatternList("a{1,2},b,(c,d)"), ["a{1,2}", "b", "(c,d)"])
    }

    func testAPatternOrRecipeThatMatchesNothingIsAClearError() throws {
        let m = try Fixture.model()
        let strategy = try ComponentTuning(patternOptions: ["trainable": "self_attn.q_proj,mlp.gate_prj"])
        XCTAssertThrowsError(try strategy.prepare(m, stage: Fixture.stage())) { error in
            let text = "\(error)"
            XCTAssertTrue(
                text.hasPrefix(
                    "strategy 'components': pattern 'mlp.gate_prj' matches nothing in this tiny-llava model."), text)
            XCTAssertTrue(text.contains("model.layers.N.mlp.gate_proj.weight"), text)
            XCTAssertTrue(text.contains("vision_tower.encoder.layers.N.self_attn.q_proj.weight"), text)
        }
        XCTAssertTrue(m.trainableParameters.count == m.namedParameters().count, "a failed prepare changes nothing")
        for bad in ["", "a,,b", "self_attn.(q"] {
            XCTAssertThrowsError(try ComponentTuning(patternOptions: ["trainable": bad]), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("strategy 'components': option trainable="), "\(error)")
                XCTAssertTrue("\(error)".contains("expected one or more regular expressions"), "\(error)")
            }
        }
    }

    func testVisionLearningRateScaleFollowsTheStudy() throws {
        let full = try ComponentTuning(recipe: .full)
        XCTAssertEqual(full.learningRateScale(forParameter: "vision_tower.post_layernorm.weight"), 0.4)
        XCTAssertEqual(full.learningRateScale(forParameter: "model.layers.0.mlp.gate_proj.weight"), 1)
        XCTAssertEqual(
            try ComponentTuning(recipe: .vision, options: ["vision-lr-scale": "1"])
                .learningRateScale(forParameter: "vision_tower.post_layernorm.weight"), 1)
        XCTAssertEqual(try ComponentTuning(recipe: .saProj).options, [])
    }

    func testFrozenWeightsAreBitForBitUnchangedAfterAStage() throws {
        for recipe in ComponentRecipe.all where recipe.name != "full" {
            let m = try Fixture.model()
            let before = m.parameterSnapshot()
            try Fixture.runStage(m, ComponentTuning(recipe: recipe), steps: 2)
            let trainable = Set(try recipeNames(recipe))
            assertUnchanged(m, except: trainable, before: before, recipe.name)
            // The trainable ones did move.
            XCTAssertTrue(trainable.contains { m.parameter(named: $0)!.array != before[$0]!.array }, recipe.name)
        }
    }

    private func recipeNames(_ recipe: ComponentRecipe) throws -> [String] {
        try Fixture.model().namedParameters().map(\.name).filter(recipe.trains)
    }
}
