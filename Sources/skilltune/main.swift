import Host
print("skilltune \(SkillTuneHost.version)")
