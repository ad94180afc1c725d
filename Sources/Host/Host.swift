import Kernel

/// The host composes the registered backbones, strategies and benchmarks and runs the study.
public enum SkillTuneHost {
    public static let version = "0.1.0"
}
