import Dispatch
import Kernel
import XCTest

final class RegistryTests: XCTestCase {
    typealias Maker = (Int) -> String

    private func makeRegistry() throws -> Registry<Maker> {
        let registry = Registry<Maker>(kind: "strategy")
        try registry.register(name: "sa-proj", summary: "attention projections") { "sa-proj x\($0)" }
        try registry.register(name: "lora", summary: "low-rank adapters", options: "rank=256 alpha=32") { "lora \($0)" }
        try registry.register(name: "mlp-gate-up", summary: "MLP gate and up projections") { "gate-up \($0)" }
        try registry.register(name: "full", summary: "everything") { "full \($0)" }
        return registry
    }

    func testRegisterAndLookUp() throws {
        let registry = try makeRegistry()
        XCTAssertEqual(registry.names, ["full", "lora", "mlp-gate-up", "sa-proj"])
        XCTAssertEqual(registry.entries.map(\.name), registry.names)
        XCTAssertEqual(try registry.make("lora")(3), "lora 3")
        let entry = try registry.entry(named: "lora")
        XCTAssertEqual(entry.summary, "low-rank adapters")
        XCTAssertEqual(entry.options, "rank=256 alpha=32")
        XCTAssertNil(try registry.entry(named: "full").options)
        XCTAssertTrue(registry.contains("full"))
        XCTAssertFalse(registry.contains("Full"))
    }

    func testDuplicateNameIsAClearError() throws {
        let registry = try makeRegistry()
        XCTAssertThrowsError(try registry.register(name: "lora", summary: "my lora") { _ in "" }) { error in
            XCTAssertEqual(
                error as? RegistryError,
                .duplicateName(kind: "strategy", name: "lora", existingSummary: "low-rank adapters"))
            XCTAssertEqual(
                "\(error)",
                "a strategy named \"lora\" is already registered (low-rank adapters); "
                    + "register yours under another name")
        }
        XCTAssertEqual(try registry.make("lora")(1), "lora 1", "the first registration stays")
    }

    func testUnknownNameListsNamesAndSuggestsTheClosest() throws {
        let registry = try makeRegistry()
        XCTAssertThrowsError(try registry.make("sa_proj")) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown strategy \"sa_proj\". Did you mean \"sa-proj\"? "
                    + "Registered: full, lora, mlp-gate-up, sa-proj.")
        }
        XCTAssertThrowsError(try registry.entry(named: "lroa")) { error in  // a transposition is one edit
            XCTAssertEqual(
                error as? RegistryError,
                .unknownName(
                    kind: "strategy", name: "lroa", registered: ["full", "lora", "mlp-gate-up", "sa-proj"],
                    suggestion: "lora"))
        }
        XCTAssertThrowsError(try registry.entry(named: "LoRA")) { error in  // case-insensitive suggestion
            XCTAssertTrue("\(error)".contains("Did you mean \"lora\"?"), "\(error)")
        }
        XCTAssertThrowsError(try registry.entry(named: "wise-ft")) { error in  // nothing close: no suggestion
            XCTAssertEqual("\(error)", "unknown strategy \"wise-ft\". Registered: full, lora, mlp-gate-up, sa-proj.")
        }
        XCTAssertThrowsError(try Registry<Maker>(kind: "benchmark").entry(named: "x")) { error in
            XCTAssertEqual("\(error)", "unknown benchmark \"x\". No benchmark is registered.")
        }
    }

    func testInvalidNames() {
        let registry = Registry<Maker>(kind: "backbone")
        for name in ["", "two words", "tab\there"] {
            XCTAssertThrowsError(try registry.register(name: name, summary: "") { _ in "" }) { error in
                XCTAssertEqual(error as? RegistryError, .invalidName(kind: "backbone", name: name))
            }
        }
    }

    func testEditDistance() {
        func d(_ a: String, _ b: String) -> Int { editDistance(Array(a), Array(b)) }
        XCTAssertEqual(d("", "abc"), 3)
        XCTAssertEqual(d("kitten", "sitting"), 3)
        XCTAssertEqual(d("llm", "lml"), 1)
        XCTAssertEqual(d("mlp-gateup", "mlp-gate-up"), 1)
        XCTAssertEqual(d("same", "same"), 0)
        XCTAssertEqual(closestName(to: "mlp-dwn", among: ["mlp", "mlp-down", "mlp-gate-up"]), "mlp-down")
        XCTAssertNil(closestName(to: "qwen", among: ["llama", "vit"]))
    }

    func testConcurrentRegistration() throws {
        let registry = Registry<Maker>(kind: "benchmark")
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            try! registry.register(name: "task\(i)", summary: "task \(i)") { "\($0 + i)" }
            _ = registry.names
        }
        XCTAssertEqual(registry.names.count, 200)
        XCTAssertEqual(try registry.make("task7")(1), "8")
    }
}
