import Foundation
import Kernel
import XCTest

/// Builds safetensors bytes by hand, so tests can break them on purpose.
enum SafeTensorsBadFiles {
    /// 8-byte little-endian length (the header's own, unless `claimedLength` is given), header, data.
    static func bytes(header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
        bytes(headerBytes: Array(header.utf8), data: data, claimedLength: claimedLength)
    }

    static func bytes(headerBytes: [UInt8], data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
        let length = claimedLength ?? UInt64(headerBytes.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + headerBytes + data
    }

    /// One tensor entry's JSON.
    static func entry(_ name: String, _ dtype: String = "F32", shape: String, offsets: String) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }
}

/// Every way a file can break the format gives its own clear error, and nothing crashes.
final class SafeTensorsValidationTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("safetensors-bad") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Opens `bytes` as `bad.safetensors` and returns the error, failing if there is none.
    func openingError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let url = directory.appendingPathComponent("bad.safetensors")
        do {
            try Data(bytes).write(to: url)
            _ = try SafeTensorsFile(url: url)
            XCTFail("opened a bad file without error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func expect(
        _ bytes: [UInt8], _ problem: SafeTensorsError.Problem, tensor: String? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let error = openingError(bytes, file: file, line: line) else { return }
        guard let format = error as? SafeTensorsError else {
            XCTFail("expected SafeTensorsError, got \(type(of: error)): \(error)", file: file, line: line)
            return
        }
        XCTAssertEqual(format.problem, problem, file: file, line: line)
        XCTAssertEqual(format.tensor, tensor, "tensor named in \(format)", file: file, line: line)
        XCTAssertEqual(format.file, "bad.safetensors", file: file, line: line)
        XCTAssertTrue(format.description.hasPrefix("bad.safetensors: "), format.description, file: file, line: line)
    }

    func expectMalformedJSON(
        _ header: String, mentioning text: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let error = openingError(SafeTensorsBadFiles.bytes(header: header), file: file, line: line) else {
            return
        }
        guard case .malformedJSON(let detail)? = (error as? SafeTensorsError)?.problem else {
            XCTFail("expected malformedJSON, got \(error)", file: file, line: line)
            return
        }
        XCTAssertTrue(detail.contains(text), "'\(detail)' should mention '\(text)'", file: file, line: line)
    }

    func testTheDescriptionReadsAsDocumented() {
        let bytes = SafeTensorsBadFiles.bytes(
            header: "{" + SafeTensorsBadFiles.entry("lm_head.weight", shape: "[4,8]", offsets: "[0,100]") + "}",
            data: [UInt8](repeating: 0, count: 100))
        XCTAssertEqual(
            openingError(bytes).map { "\($0)" },
            "bad.safetensors: tensor 'lm_head.weight': data_offsets [0, 100] hold 100 bytes, but shape [4, 8] of F32 needs 128"
        )
    }

    func testFileAndHeaderLengthProblems() {
        expect([], .fileTooShort(byteCount: 0))
        expect([1, 0, 0, 0, 0], .fileTooShort(byteCount: 5))
        expect(
            SafeTensorsBadFiles.bytes(header: "{}", claimedLength: 100),
            .headerPastEndOfFile(headerLength: 100, fileSize: 10))
        expect(
            SafeTensorsBadFiles.bytes(header: "{}", claimedLength: 11),
            .headerPastEndOfFile(headerLength: 11, fileSize: 10))
        expect(
            SafeTensorsBadFiles.bytes(header: "{}", claimedLength: 200_000_000),
            .headerTooLarge(headerLength: 200_000_000, limit: 100_000_000))
        expect(
            SafeTensorsBadFiles.bytes(header: "{}", claimedLength: .max),
            .headerTooLarge(headerLength: .max, limit: 100_000_000))
        expect(
            SafeTensorsBadFiles.bytes(header: "{}", claimedLength: 1 << 63),
            .headerTooLarge(headerLength: 1 << 63, limit: 100_000_000))
    }

    func testMalformedHeaders() {
        expect(SafeTensorsBadFiles.bytes(headerBytes: [0x7B, 0xFF, 0x7D]), .headerNotUTF8)
        expect(SafeTensorsBadFiles.bytes(headerBytes: [0x7B, 0x22, 0xC3, 0x22, 0x7D]), .headerNotUTF8)
        expectMalformedJSON("", mentioning: "unexpected end of input at byte 0")
        expectMalformedJSON("{\"a\": ", mentioning: "unexpected end of input")
        expectMalformedJSON("{'a': 1}", mentioning: "expected a string key at byte 1")
        expectMalformedJSON("{} x", mentioning: "unexpected content after the JSON value")
        expectMalformedJSON("{\"a\":1,\"a\":2}", mentioning: "duplicate key \"a\"")
        expectMalformedJSON("{\"a\":[1,]}", mentioning: "unexpected character ']'")
        expectMalformedJSON("{\"a\":\"tab\there\"}", mentioning: "unescaped control character")
        expectMalformedJSON("{\"a\":\"\\ud800\"}", mentioning: "unpaired surrogate")
        expectMalformedJSON("{\"a\":01}", mentioning: "expected ',' or '}'")
        expectMalformedJSON("{\"a\":1.}", mentioning: "digits expected after '.'")
        expectMalformedJSON("{\"a\":tru}", mentioning: "invalid literal")
        // Hostile nesting is refused, not followed into a stack overflow.
        expectMalformedJSON(String(repeating: "[", count: 100_000), mentioning: "nesting deeper than 64 levels")
        expect(SafeTensorsBadFiles.bytes(header: "[1,2]"), .headerNotObject(found: "an array of 2"))
        expect(SafeTensorsBadFiles.bytes(header: "\"x\""), .headerNotObject(found: "string \"x\""))
    }

    func testMetadataMustBeAnObjectOfStrings() {
        expect(SafeTensorsBadFiles.bytes(header: #"{"__metadata__":[1]}"#), .metadataNotObject(found: "an array of 1"))
        expect(
            SafeTensorsBadFiles.bytes(header: #"{"__metadata__":{"ok":"yes","epoch":3}}"#),
            .metadataValueNotString(key: "epoch", found: "number 3"))
    }

    func testEntryFieldsMustBePresentAndWellTyped() {
        func header(_ entryJSON: String) -> [UInt8] {
            SafeTensorsBadFiles.bytes(header: "{\"t\":\(entryJSON)}", data: [0, 0, 0, 0])
        }
        expect(header("5"), .entryNotObject(found: "number 5"), tensor: "t")
        expect(header(#"{"shape":[1],"data_offsets":[0,4]}"#), .missingField("dtype"), tensor: "t")
        expect(header(#"{"dtype":"F32","data_offsets":[0,4]}"#), .missingField("shape"), tensor: "t")
        expect(header(#"{"dtype":"F32","shape":[1]}"#), .missingField("data_offsets"), tensor: "t")
        expect(
            header(#"{"dtype":32,"shape":[1],"data_offsets":[0,4]}"#),
            .wrongFieldType(field: "dtype", expected: "a string", found: "number 32"), tensor: "t")
        expect(
            header(#"{"dtype":"F32","shape":"1","data_offsets":[0,4]}"#),
            .wrongFieldType(field: "shape", expected: "an array of integers", found: "string \"1\""), tensor: "t")
        expect(
            header(#"{"dtype":"F32","shape":[1],"data_offsets":{}}"#),
            .wrongFieldType(field: "data_offsets", expected: "an array [begin, end]", found: "an object"), tensor: "t")
        expect(
            header(#"{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}"#),
            .wrongFieldType(field: "data_offsets", expected: "an array [begin, end]", found: "an array of 3"),
            tensor: "t")
        expect(header(#"{"dtype":"F128","shape":[1],"data_offsets":[0,4]}"#), .unknownDType("F128"), tensor: "t")
        expect(header(#"{"dtype":"f32","shape":[1],"data_offsets":[0,4]}"#), .unknownDType("f32"), tensor: "t")
        // Extra fields are ignored, as by the reference reader.
        XCTAssertNoThrow(
            try Data(header(#"{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":true}"#))
                .write(to: directory.appendingPathComponent("ok.safetensors")))
        XCTAssertNoThrow(try SafeTensorsFile(url: directory.appendingPathComponent("ok.safetensors")))
    }

    func testShapeDimensionsMustBeNonNegativeIntegers() {
        func shape(_ text: String) -> [UInt8] {
            SafeTensorsBadFiles.bytes(
                header: "{" + SafeTensorsBadFiles.entry("w", shape: text, offsets: "[0,4]") + "}",
                data: [0, 0, 0, 0])
        }
        expect(shape("[1,-1]"), .notANonNegativeInteger(field: "shape[1]", found: "number -1"), tensor: "w")
        expect(shape("[2.5]"), .notANonNegativeInteger(field: "shape[0]", found: "number 2.5"), tensor: "w")
        expect(shape("[1.0]"), .notANonNegativeInteger(field: "shape[0]", found: "number 1.0"), tensor: "w")
        expect(shape("[1e0]"), .notANonNegativeInteger(field: "shape[0]", found: "number 1e0"), tensor: "w")
        expect(shape("[true]"), .notANonNegativeInteger(field: "shape[0]", found: "true"), tensor: "w")
        expect(shape("[\"1\"]"), .notANonNegativeInteger(field: "shape[0]", found: "string \"1\""), tensor: "w")
        expect(
            shape("[99999999999999999999]"),
            .notANonNegativeInteger(field: "shape[0]", found: "number 99999999999999999999"), tensor: "w")
        // Products that overflow are refused, not trapped on, even when a later dimension is zero.
        expect(shape("[4294967296,4294967296]"), .sizeOverflow(shape: [1 << 32, 1 << 32], dtype: "F32"), tensor: "w")
        expect(shape("[2305843009213693952]"), .sizeOverflow(shape: [1 << 61], dtype: "F32"), tensor: "w")
        expect(
            shape("[4294967296,4294967296,0]"), .sizeOverflow(shape: [1 << 32, 1 << 32, 0], dtype: "F32"), tensor: "w")
    }

    func testOffsetsMustMatchAndTileTheBuffer() {
        func file(_ entries: [String], dataSize: Int) -> [UInt8] {
            SafeTensorsBadFiles.bytes(
                header: "{" + entries.joined(separator: ",") + "}",
                data: [UInt8](repeating: 7, count: dataSize))
        }
        func entry(_ name: String, _ dtype: String = "F32", shape: String, offsets: String) -> String {
            SafeTensorsBadFiles.entry(name, dtype, shape: shape, offsets: offsets)
        }
        expect(
            file([entry("a", "F32", shape: "[2]", offsets: "[-1,7]")], dataSize: 8),
            .notANonNegativeInteger(field: "data_offsets[0]", found: "number -1"), tensor: "a")
        expect(
            file([entry("a", "F32", shape: "[2]", offsets: "[0,8.0]")], dataSize: 8),
            .notANonNegativeInteger(field: "data_offsets[1]", found: "number 8.0"), tensor: "a")
        expect(
            file([entry("a", "F32", shape: "[2]", offsets: "[8,0]")], dataSize: 8),
            .offsetsReversed(begin: 8, end: 0), tensor: "a")
        expect(
            file([entry("a", "F32", shape: "[2]", offsets: "[4,12]")], dataSize: 8),
            .offsetsOutOfRange(begin: 4, end: 12, bufferSize: 8), tensor: "a")
        expect(
            file([entry("a", "F32", shape: "[2]", offsets: "[0,9223372036854775807]")], dataSize: 8),
            .offsetsOutOfRange(begin: 0, end: Int.max, bufferSize: 8), tensor: "a")
        expect(
            file([entry("a", "F16", shape: "[2,3]", offsets: "[0,8]")], dataSize: 8),
            .byteCountMismatch(begin: 0, end: 8, shape: [2, 3], dtype: "F16", needed: 12), tensor: "a")
        expect(
            file([entry("a", "F32", shape: "[]", offsets: "[0,8]")], dataSize: 8),
            .byteCountMismatch(begin: 0, end: 8, shape: [], dtype: "F32", needed: 4), tensor: "a")
        // Overlap, named by both tensors.
        expect(
            file(
                [entry("a", shape: "[4]", offsets: "[0,16]"), entry("b", shape: "[4]", offsets: "[8,24]")], dataSize: 24
            ),
            .overlap(begin: 8, end: 24, other: "a", otherBegin: 0, otherEnd: 16), tensor: "b")
        expect(
            file(
                [entry("b", shape: "[2]", offsets: "[0,8]"), entry("a", shape: "[2]", offsets: "[0,8]")], dataSize: 8),
            .overlap(begin: 0, end: 8, other: "b", otherBegin: 0, otherEnd: 8), tensor: "a")
        expect(
            file(
                [entry("a", shape: "[4]", offsets: "[0,16]"), entry("e", shape: "[0]", offsets: "[8,8]")], dataSize: 16),
            .overlap(begin: 8, end: 8, other: "a", otherBegin: 0, otherEnd: 16), tensor: "e")
        // Holes: at the start, between tensors, at the end.
        expect(file([entry("a", shape: "[2]", offsets: "[8,16]")], dataSize: 16), .uncoveredBytes(begin: 0, end: 8))
        expect(
            file(
                [entry("a", shape: "[2]", offsets: "[0,8]"), entry("b", shape: "[2]", offsets: "[16,24]")], dataSize: 24
            ),
            .uncoveredBytes(begin: 8, end: 16))
        expect(file([entry("a", shape: "[2]", offsets: "[0,8]")], dataSize: 12), .uncoveredBytes(begin: 8, end: 12))
        expect(file([], dataSize: 3), .uncoveredBytes(begin: 0, end: 3))
    }

    func testOperatingSystemFailuresAreFileIOErrors() {
        let missing = directory.appendingPathComponent("missing.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(url: missing)) { error in
            XCTAssertEqual((error as? FileIOError)?.code, ENOENT)
            XCTAssertEqual("\(error)", "\(missing.path): cannot open for reading: No such file or directory")
        }
        XCTAssertThrowsError(try SafeTensorsFile(url: directory)) { error in
            XCTAssertEqual("\(error)", "\(directory.path): cannot read: not a regular file")
        }
    }

    /// Random corruptions of a valid file: each either opens (and then reads) or throws, never crashes.
    func testRandomCorruptionNeverCrashes() throws {
        let valid = SafeTensorsBadFiles.bytes(
            header:
                #"{"__metadata__":{"k":"v"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]},"c":{"dtype":"I64","shape":[],"data_offsets":[14,22]}}"#,
            data: (0..<22).map { UInt8($0 * 11 % 256) })
        var rng = TestRandom(99)
        func randomIndex(_ n: Int) -> Int { Int((rng.next() + 1) / 2 * Float(n)) % n }
        var opened = 0
        var refused = 0
        let url = directory.appendingPathComponent("fuzz.safetensors")
        for round in 0..<200 {
            var bytes = valid
            switch round % 4 {
            case 0: bytes[randomIndex(bytes.count)] = UInt8(randomIndex(256))
            case 1: bytes = Array(bytes.prefix(randomIndex(bytes.count)))
            case 2: bytes[randomIndex(8)] = UInt8(randomIndex(256))
            default:
                let digits = bytes.indices.filter { (0x30...0x39).contains(bytes[$0]) }
                bytes[digits[randomIndex(digits.count)]] = UInt8(0x30 + randomIndex(10))
            }
            try Data(bytes).write(to: url)
            do {
                let file = try SafeTensorsFile(url: url)
                for name in file.tensorNames { _ = try file.tensor(named: name) }
                opened += 1
            } catch is SafeTensorsError {
                refused += 1
            }
        }
        XCTAssertEqual(opened + refused, 200)
        XCTAssertGreaterThan(refused, 50)
    }
}
