import Host
if Array(CommandLine.arguments.dropFirst()) == ["bench", "nn-ops"] {
    print(NNOpsBenchmark.report())
} else {
    print("skilltune \(SkillTuneHost.version)")
}
