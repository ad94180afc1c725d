import Foundation

/// Base models that ship with SkillTune: the package's `Resources/base` folder holds pretrained bases under the
/// same names as the cache (`tiny-llava-small-seed0-<hash of everything that determines it>`), so a study whose
/// settings give that name loads the shipped weights instead of pretraining. Any change to the settings, the data
/// or the pretraining code's version changes the name, and the study pretrains as before.
///
/// `skilltune pretrain --fresh` trains the base again and says whether it is byte-identical to the shipped one
/// (it is with the same arithmetic: a build with fused multiply-adds, `-target-cpu native`, `haswell` or ARM,
/// which made the shipped weights; see README).
///
/// The folder is found beside the running executable (SwiftPM copies a target's resources to
/// `<Package>_<Target>.resources` there, `.bundle` on Apple platforms), or in `SKILLTUNE_SHIPPED_BASES`; never
/// through `Bundle.module`, which stops the process when the folder is missing (a binary copied elsewhere).
public enum ShippedBase {
    /// The folders searched for shipped bases, in order.
    public static var searchPaths: [URL] {
        var out: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["SKILLTUNE_SHIPPED_BASES"], !dir.isEmpty {
            out.append(URL(fileURLWithPath: dir))
        }
        var executables: [URL] = []
        if let url = Bundle.main.executableURL { executables.append(url.resolvingSymlinksInPath()) }
        executables.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath())
        for executable in executables {
            let dir = executable.deletingLastPathComponent()
            for bundle in [
                "SkillTune_Host.resources", "SkillTune_Host.bundle/Contents/Resources", "SkillTune_Host.bundle",
            ] {
                out.append(dir.appendingPathComponent(bundle).appendingPathComponent("base"))
            }
        }
        return out
    }

    /// The shipped base called `name` (a cache directory's last component), if this installation has it.
    public static func directory(named name: String) -> URL? {
        for root in searchPaths {
            let dir = root.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) {
                return dir
            }
        }
        return nil
    }

    /// Whether two checkpoint directories hold the same bytes in every file of `a`.
    public static func identical(_ a: URL, _ b: URL) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: a.path), !names.isEmpty else {
            return false
        }
        return names.allSatisfy { name in
            FileManager.default.contentsEqual(
                atPath: a.appendingPathComponent(name).path, andPath: b.appendingPathComponent(name).path)
        }
    }
}
