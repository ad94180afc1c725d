import Foundation
import Kernel
import XCTest

/// The values `make_safetensors_fixture.py` recorded next to the files the reference library wrote.
struct SafeTensorsFixture: Decodable {
    struct ExpectedTensor: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
        let float32_bits: [UInt32]
    }
    struct Source: Decodable {
        let shape: [Int]
        let float32_bits: [UInt32]
    }
    let metadata: [String: String]
    let tensors: [String: ExpectedTensor]
    let writer_source: [String: Source]
    let writer_metadata: [String: String]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("safetensors")

    static func load() throws -> SafeTensorsFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("reference.json"))
        return try JSONDecoder().decode(SafeTensorsFixture.self, from: data)
    }
}

/// A fresh empty directory for one test, removed afterwards.
func makeTemporaryDirectory(_ testName: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("skilltune-\(testName)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Bitwise equality, except that any NaN equals any NaN.
func sameFloat(_ a: Float, _ b: Float) -> Bool {
    (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
}

final class SafeTensorsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("safetensors") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    // MARK: Reading what the reference library wrote

    func testReadsReferenceFixtureValueByValue() throws {
        let fixture = try SafeTensorsFixture.load()
        let file = try SafeTensorsFile(
            url: SafeTensorsFixture.directory.appendingPathComponent("reference.safetensors"))
        XCTAssertEqual(file.metadata, fixture.metadata)
        XCTAssertEqual(Set(file.tensorNames), Set(fixture.tensors.keys))
        XCTAssertEqual(
            file.tensorInfos.map(\.dataOffsets.lowerBound), file.tensorInfos.map(\.dataOffsets.lowerBound).sorted(),
            "tensorInfos are in file order")
        for (name, expected) in fixture.tensors {
            let info = try XCTUnwrap(file.info(named: name))
            XCTAssertEqual(info.dtype.rawValue, expected.dtype, name)
            XCTAssertEqual(info.shape, expected.shape, name)
            XCTAssertEqual([info.dataOffsets.lowerBound, info.dataOffsets.upperBound], expected.data_offsets, name)
            let tensor = try file.tensor(named: name)
            XCTAssertEqual(tensor.shape, expected.shape, name)
            XCTAssertEqual(tensor.name, name)
            XCTAssertFalse(tensor.requiresGrad)
            XCTAssertEqual(tensor.count, expected.float32_bits.count, name)
            for (i, bits) in expected.float32_bits.enumerated() {
                let want = Float(bitPattern: bits)
                XCTAssertTrue(
                    sameFloat(tensor.data[i], want),
                    "\(name)[\(i)]: got \(tensor.data[i]) (\(String(tensor.data[i].bitPattern, radix: 16))), want \(want) (\(String(bits, radix: 16)))"
                )
            }
        }
        // The bulk loaders agree with tensor(named:).
        let all = try file.tensors()
        XCTAssertEqual(all.map(\.name), file.tensorNames)
        let byName = try file.tensorsByName()
        XCTAssertEqual(byName.count, fixture.tensors.count)
        XCTAssertEqual(byName["scalar"]?.shape, [])
        XCTAssertEqual(byName["scalar"]?.item, 42.5)
        XCTAssertEqual(byName["empty"]?.shape, [0, 3])
        // Raw bytes are the file's bytes.
        try file.withRawBytes(ofTensorNamed: "bytes_u8") { raw in XCTAssertEqual(Array(raw), [0, 128, 255]) }
        try file.withRawBytes(ofTensorNamed: "empty") { raw in XCTAssertEqual(raw.count, 0) }
    }

    // MARK: Writing what the reference library writes

    /// Our writer must produce the very bytes the reference writer produced from the same Float32 sources,
    /// for F32, F16 and BF16 (so Python reads our files, and our rounding matches torch's).
    func testWriterProducesReferenceBytes() throws {
        let fixture = try SafeTensorsFixture.load()
        let tensors = fixture.writer_source.map { name, source in
            (name, Tensor(shape: source.shape, values: source.float32_bits.map { Float(bitPattern: $0) }))
        }
        for (suffix, dtype) in [("f32", SafeTensorsDType.float32), ("f16", .float16), ("bf16", .bfloat16)] {
            let expected = try Data(
                contentsOf: SafeTensorsFixture.directory.appendingPathComponent("writer_\(suffix).safetensors"))
            let url = directory.appendingPathComponent("ours_\(suffix).safetensors")
            try SafeTensors.write(tensors, metadata: fixture.writer_metadata, as: dtype, to: url)
            let written = try Data(contentsOf: url)
            XCTAssertEqual(written.count, expected.count, suffix)
            if let first = zip(written, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
                XCTFail("\(suffix): first differing byte at \(first.offset)")
            }
            // The dictionary form writes the same file.
            try SafeTensors.write(
                Dictionary(uniqueKeysWithValues: tensors), metadata: fixture.writer_metadata,
                as: dtype, to: url)
            XCTAssertEqual(try Data(contentsOf: url), expected, suffix)
        }
    }

    // MARK: Round trips

    func testRoundTripKeepsValuesNamesShapesAndMetadata() throws {
        var rng = TestRandom(5)
        let tensors: [(String, Tensor)] = [
            ("model.layers.0.self_attn.q_proj.weight", rng.tensor([8, 8], scale: 3, requiresGrad: true)),
            ("model.embed_tokens.weight", rng.tensor([16, 8], scale: 0.02, requiresGrad: false)),
            ("d\u{E9}codeur \"quoted\"\n", rng.tensor([3], requiresGrad: false)),
            ("scalar", Tensor(scalar: -7.25)),
            ("empty", Tensor(zeros: [0, 5])),
            ("big", rng.tensor([300, 1001], requiresGrad: false)),
        ]
        tensors[1].1.data[3] = .infinity
        tensors[1].1.data[4] = -0.0
        tensors[1].1.data[5] = Float(bitPattern: 0x0000_03E7)  // a Float32 subnormal
        tensors[1].1.data[6] = .nan
        let metadata = [
            "format": "pt", "": "empty key", "quote\"back\\slash": "line\nbreak\u{1}", "unicode": "\u{1F600} caf\u{E9}",
        ]
        for dtype in [SafeTensorsDType.float32, .float16, .bfloat16] {
            let url = directory.appendingPathComponent("round-\(dtype.rawValue).safetensors")
            try SafeTensors.write(tensors, metadata: metadata, as: dtype, to: url)
            let file = try SafeTensorsFile(url: url)
            XCTAssertEqual(file.metadata, metadata)
            XCTAssertEqual(
                file.tensorNames, tensors.map(\.0).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) },
                "written sorted by name")
            let raw = try Data(contentsOf: url)
            let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            XCTAssertEqual(headerLength % 8, 0, "header padded to a multiple of 8")
            for info in file.tensorInfos {
                XCTAssertEqual(info.dataOffsets.lowerBound % dtype.byteSize, 0, "\(info.name) aligned")
            }
            for (name, original) in tensors {
                let read = try file.tensor(named: name)
                XCTAssertEqual(read.shape, original.shape, name)
                for i in 0..<original.count {
                    let x = original.data[i]
                    let want: Float
                    switch dtype {
                    case .float16:
                        want = Float16Conversion.float(fromFloat16Bits: Float16Conversion.float16Bits(from: x))
                    case .bfloat16:
                        want = Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: x))
                    default: want = x
                    }
                    if !sameFloat(read.data[i], want) {
                        XCTFail("\(dtype) \(name)[\(i)]: wrote \(x), read \(read.data[i]), want \(want)")
                        break
                    }
                }
            }
        }
    }

    func testEmptyFileListAndNullMetadataAreValid() throws {
        let url = directory.appendingPathComponent("nothing.safetensors")
        try SafeTensors.write([(String, Tensor)](), to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.tensorNames, [])
        XCTAssertEqual(file.metadata, [:])
        XCTAssertEqual(try Data(contentsOf: url), Data([8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8)))

        let withNull = directory.appendingPathComponent("null.safetensors")
        try Data(SafeTensorsBadFiles.bytes(header: #"{"__metadata__":null}"#)).write(to: withNull)
        XCTAssertEqual(try SafeTensorsFile(url: withNull).metadata, [:])
    }

    /// Prints where a Swift-written file was left so `check_swift_written_safetensors.py` can read it.
    /// Set SKILLTUNE_SAFETENSORS_EXPORT to a directory to keep the files.
    func testWritesFilesForThePythonCheck() throws {
        let target =
            ProcessInfo.processInfo.environment["SKILLTUNE_SAFETENSORS_EXPORT"].map { URL(fileURLWithPath: $0) }
            ?? directory!
        for dtype in [SafeTensorsDType.float32, .float16, .bfloat16] {
            let url = target.appendingPathComponent("swift_written_\(dtype.rawValue).safetensors")
            try SafeTensors.write(Self.pythonCheckTensors(), metadata: Self.pythonCheckMetadata, as: dtype, to: url)
            XCTAssertEqual(try SafeTensorsFile(url: url).tensorNames.count, 5)
        }
    }

    /// Tensors whose values `check_swift_written_safetensors.py` recomputes: element j of tensor i is
    /// (j - 5) * 0.125 * (i + 1), exact in F16 and BF16.
    static func pythonCheckTensors() -> [(String, Tensor)] {
        let shapes: [(String, [Int])] = [
            ("layers.0.weight", [4, 3]), ("layers.1.bias", [5]), ("scalar", []),
            ("empty", [0, 4]), ("d\u{E9}j\u{E0} vu", [2, 2, 2]),
        ]
        return shapes.enumerated().map { i, entry in
            let n = Tensor.elementCount(entry.1)
            return (entry.0, Tensor(shape: entry.1, values: (0..<n).map { j in Float(j - 5) * 0.125 * Float(i + 1) }))
        }
    }

    static let pythonCheckMetadata = ["format": "pt", "run": "swift \u{2713}", "empty": "", "multi": "a\nb\"c"]

    // MARK: Lookups

    func testMissingTensorAndUnconvertibleDTypeAreClearErrors() throws {
        let url = directory.appendingPathComponent("f8.safetensors")
        try Data(
            SafeTensorsBadFiles.bytes(
                header: #"{"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#,
                data: [1, 2])
        ).write(to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.info(named: "q")?.dtype, .float8E4M3)
        XCTAssertThrowsError(try file.tensor(named: "q")) { error in
            XCTAssertEqual(
                error as? SafeTensorsError,
                SafeTensorsError(
                    file: "f8.safetensors", tensor: "q",
                    problem: .unsupportedDType("F8_E4M3", reason: "no conversion to Float32")))
        }
        XCTAssertThrowsError(try file.tensor(named: "nope")) { error in
            XCTAssertEqual("\(error)", "f8.safetensors: tensor 'nope': no such tensor (the file has 1 tensor)")
        }
    }

    func testWriterRejectsBadNamesAndDTypes() throws {
        let url = directory.appendingPathComponent("w.safetensors")
        let t = Tensor(zeros: [2])
        XCTAssertThrowsError(try SafeTensors.write([("__metadata__", t)], to: url)) { error in
            XCTAssertEqual(
                (error as? SafeTensorsError)?.problem,
                .invalidTensorName(reason: "'__metadata__' is reserved for the metadata entry"))
        }
        XCTAssertThrowsError(try SafeTensors.write([("a", t), ("a", t)], to: url)) { error in
            XCTAssertEqual(
                error as? SafeTensorsError,
                SafeTensorsError(file: "w.safetensors", tensor: "a", problem: .duplicateTensorName))
        }
        XCTAssertThrowsError(try SafeTensors.write([("a", t)], as: .int64, to: url)) { error in
            XCTAssertEqual("\(error)", "w.safetensors: dtype I64 is not supported: the writer stores F32, F16 or BF16")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), "nothing written on invalid input")
    }
}
