import Foundation
import Host

// Minimal command dispatch; to be restructured when more commands exist.

let usage = """
    usage: skilltune bench kernels [--json] [--quick] [--threads N[,N...]]
           skilltune --version | --help
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("skilltune: \(message)\n\(usage)\n".utf8))
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil, "--version":
    print("skilltune \(SkillTuneHost.version)")
case "--help", "-h", "help":
    print(usage)
case "bench":
    guard arguments.count >= 2 else { fail("bench needs a target; valid: kernels") }
    guard arguments[1] == "kernels" else { fail("unknown bench target '\(arguments[1])'; valid: kernels") }
    var options = KernelBenchmark.Options()
    var json = false
    var rest = arguments.dropFirst(2)[...]
    while let option = rest.popFirst() {
        switch option {
        case "--json": json = true
        case "--quick": options.quick = true
        case "--threads":
            guard let list = rest.popFirst() else { fail("--threads needs a list such as 1,2") }
            let counts = list.split(separator: ",").map { Int($0) }
            guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                fail("--threads wants positive integers separated by commas, got '\(list)'")
            }
            options.threads = counts.map { $0! }
        default:
            fail("unknown option '\(option)' for bench kernels; valid: --json, --quick, --threads N[,N...]")
        }
    }
    let result = KernelBenchmark.run(options)
    if json {
        do { print(try KernelBenchmark.json(result)) } catch { fail("could not encode the results: \(error)") }
    } else {
        print(KernelBenchmark.format(result))
    }
default:
    fail("unknown command '\(arguments[0])'; valid: bench kernels, --version, --help")
}
