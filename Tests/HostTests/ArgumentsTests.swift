import Host
import SkillTuneCLI
import XCTest

final class ArgumentsTests: XCTestCase {
    let options: [OptionSpec] = [
        .value("seed", "N", "seed", default: "0"), .value("out", "DIR", "output"), .flag("json", "json"),
        .value("rate", "X", "rate"), .value("strategies", "LIST", "names"),
    ]

    func testParsesValuesFlagsAndDefaults() throws {
        let p = try ParsedArguments(
            command: "compare",
            arguments: [
                "--seed", "7", "--json", "--out=runs/a",
                "--strategies", "full, sa-proj,,lora",
            ], options: options)
        XCTAssertEqual(try p.int("seed"), 7)
        XCTAssertTrue(p.flag("json"))
        XCTAssertEqual(p.string("out"), "runs/a")
        XCTAssertEqual(p.list("strategies"), ["full", "sa-proj", "lora"])
        let q = try ParsedArguments(command: "compare", arguments: [], options: options)
        XCTAssertEqual(try q.int("seed"), 0)
        XCTAssertNil(q.string("out"))
        XCTAssertFalse(q.flag("json"))
    }

    func testUnknownOptionSuggestsTheClosestAndListsValidOnes() {
        XCTAssertThrowsError(try ParsedArguments(command: "compare", arguments: ["--sed", "1"], options: options)) {
            e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("unknown option '--sed'; did you mean '--seed'?"), m)
            XCTAssertTrue(m.contains("valid options: --json, --out, --rate, --seed, --strategies"), m)
        }
    }

    func testBadValuesAreClearErrors() throws {
        XCTAssertThrowsError(try ParsedArguments(command: "c", arguments: ["--seed"], options: options)) {
            XCTAssertEqual("\($0)", "option '--seed' needs a value (N)")
        }
        let p = try ParsedArguments(command: "c", arguments: ["--seed", "x1", "--rate", "nan"], options: options)
        XCTAssertThrowsError(try p.int("seed")) {
            XCTAssertEqual("\($0)", "option '--seed' expects a whole number, got 'x1'")
        }
        XCTAssertThrowsError(try p.double("rate")) {
            XCTAssertEqual("\($0)", "option '--rate' expects a finite number, got 'nan'")
        }
        XCTAssertThrowsError(
            try ParsedArguments(command: "c", arguments: ["--seed", "1", "--seed", "2"], options: options))
        XCTAssertThrowsError(try ParsedArguments(command: "c", arguments: ["stray"], options: options)) {
            XCTAssertTrue("\($0)".contains("unexpected argument 'stray'"))
        }
        let r = try ParsedArguments(command: "c", arguments: ["--seed", "-5"], options: options)
        XCTAssertThrowsError(try r.int("seed", in: 0...100)) {
            XCTAssertEqual("\($0)", "option '--seed' must be in 0...100, got -5")
        }
    }

    func testToolDispatchesMultiWordCommandsAndReportsUsageErrors() {
        var ran: [String] = []
        let tool = CommandLineTool(
            name: "t", summary: "test",
            commands: [
                Command(name: "probe", summary: "p", options: []) { _ in ran.append("probe") },
                Command(name: "probe layer-shift", summary: "ls", options: [.flag("json", "j")]) { a in
                    ran.append("ls \(a.flag("json"))")
                },
            ])
        XCTAssertEqual(tool.run(["probe", "layer-shift", "--json"]), 0)
        XCTAssertEqual(tool.run(["probe"]), 0)
        XCTAssertEqual(ran, ["ls true", "probe"])
        XCTAssertEqual(tool.run(["prob"]), 2)
        XCTAssertEqual(tool.run(["probe", "layer-shift", "--bogus"]), 2)
        XCTAssertEqual(tool.run(["--help"]), 0)
    }

    func testGroupWordListsItsCommands() {
        let tool = CommandLineTool(
            name: "t", summary: "test",
            commands: [
                Command(name: "bench kernels", summary: "k", options: []) { _ in },
                Command(name: "bench train", summary: "tr", options: []) { _ in },
            ])
        XCTAssertEqual(
            tool.groupHelp("bench", tool.commands),
            "USAGE: t bench <command> [options]\n\nCOMMANDS:\n  bench kernels    k\n  bench train      tr\n\n"
                + "See 't bench <command> --help' for a command's options.\n")
        XCTAssertEqual(tool.run(["bench", "--help"]), 0)
        XCTAssertEqual(tool.run(["bench"]), 0)
        XCTAssertEqual(tool.run(["bench", "bogus"]), 2)
    }
}
