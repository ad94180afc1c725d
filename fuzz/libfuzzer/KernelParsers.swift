// libFuzzer entry point for the parsers of the Kernel module (coverage-guided, a complement to the seeded
// `skilltune fuzz`). Compiled together with Sources/Kernel by fuzz/libfuzzer/run.sh; FUZZ_TARGET picks the
// parser (safetensors or image).
import Foundation

private let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "safetensors"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    switch target {
    case "image":
        if let image = try? ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 20, maxSide: 1 << 12)) {
            precondition(image.pixels.count == image.width * image.height * 3)
        }
    default:
        guard let file = try? SafeTensorsFile(data: Data(bytes)) else { return 0 }
        for name in file.tensorNames.prefix(64) where file.info(named: name)?.dtype.isReadableAsFloat32 == true {
            _ = try? file.tensor(named: name)
        }
    }
    return 0
}
