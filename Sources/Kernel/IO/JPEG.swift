/// JPEG images (ITU T.81, JFIF/Exif/Adobe files): a decoder for 8-bit baseline, extended sequential and
/// progressive Huffman-coded images with 1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCCK) components, any integral
/// chroma subsampling (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, 3x1, ...) and restart markers. Application segments
/// (JFIF, Exif, ICC, XMP) and comments are skipped; arithmetic-coded, lossless, hierarchical and 12-bit files are
/// refused with a clear error.
///
/// The output is what PIL (libjpeg-turbo) gives for `Image.open(f).convert("RGB")`: libjpeg's accurate integer
/// IDCT (`JDCT_ISLOW`), its "fancy" triangular upsampling for 2:1 ratios, replication for other ratios, and its
/// fixed-point YCbCr -> RGB tables; gray becomes three equal channels; CMYK is inverted (Adobe polarity) and
/// converted as PIL does.
public enum JPEG {
    /// Decodes JPEG bytes; `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>", limits: ImageLimits = .standard) throws
        -> Image
    {
        do {
            var decoder = JPEGDecoder(bytes: bytes, file: file, limits: limits)
            return try decoder.decode()
        } catch let failure as JPEGFailure {
            throw ImageCodecError(file: file, reason: "JPEG: " + failure.reason)
        }
    }

    /// Whether `bytes` start like a JPEG file: SOI (FF D8) followed by a marker's FF.
    public static func looksLikeJPEG(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }
}

/// The state of one decode: tables defined so far, the frame, and every component's coefficients (a
/// progressive scan refines them; the image is made from them after the last scan).
struct JPEGDecoder {
    /// More scans than any real encoder writes (libjpeg's progression has about ten); bounds the work of a
    /// hostile file whose scans each cover the whole image with a few bytes.
    static let maxScans = 500

    let bytes: [UInt8]
    let file: String
    let limits: ImageLimits
    var position = 2
    /// Quantisation tables 0...3 in natural order.
    var quantTables: [[Int]?] = [nil, nil, nil, nil]
    var dcTables: [JPEGHuffmanTable?] = [nil, nil, nil, nil]
    var acTables: [JPEGHuffmanTable?] = [nil, nil, nil, nil]
    /// MCUs between restart markers (DRI), 0 for none.
    var restartInterval = 0
    var frame: JPEGFrame?
    var sawJFIF = false
    /// The transform flag of an Adobe APP14 segment (0 none/CMYK/RGB, 1 YCbCr, 2 YCCK), nil without one.
    var adobeTransform: Int?
    var scanCount = 0
    /// Which components have been in at least one scan.
    var scanned: [Bool] = []
    /// All components' coefficients, 64 per block in natural (row-major) order, allocated at the first scan.
    var coefficients: [Int16] = []

    init(bytes: [UInt8], file: String, limits: ImageLimits) {
        self.bytes = bytes
        self.file = file
        self.limits = limits
    }

    mutating func decode() throws -> Image {
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            throw JPEGFailure("missing the start-of-image marker (FF D8)")
        }
        markers: while true {
            guard let marker = nextMarker() else {
                // Tolerate a missing EOI after complete sequential data (a truncated scan has thrown already);
                // a progressive file cut between scans would silently lose detail, so it is refused.
                if let frame, !frame.progressive, !scanned.isEmpty, scanned.allSatisfy({ $0 }) { break markers }
                throw JPEGFailure("the file ends before the end-of-image marker (truncated)")
            }
            switch marker {
            case 0xD9:
                break markers
            case 0xC0, 0xC1, 0xC2:
                guard frame == nil else {
                    throw JPEGFailure("a second frame header (SOF); only single-frame files are supported")
                }
                let payload = try segment(marker)
                let parsed = try JPEGFrame(payload: payload, progressive: marker == 0xC2, limits: limits, file: file)
                frame = parsed
                scanned = [Bool](repeating: false, count: parsed.components.count)
            case 0xC3, 0xC7, 0xCB, 0xCF:
                throw JPEGFailure("lossless JPEG (SOF\(marker - 0xC0)) is not supported")
            case 0xC5, 0xC6, 0xDE, 0xDF:
                throw JPEGFailure("hierarchical JPEG (marker FF \(hex(marker))) is not supported")
            case 0xC9, 0xCA, 0xCC, 0xCD, 0xCE:
                throw JPEGFailure("arithmetic-coded JPEG (marker FF \(hex(marker))) is not supported")
            case 0xC4:
                try readHuffmanTables(segment(marker))
            case 0xDB:
                try readQuantTables(segment(marker))
            case 0xDD:
                let payload = try segment(marker)
                guard payload.count == 2 else { throw JPEGFailure("DRI has \(payload.count) bytes, expected 2") }
                restartInterval = Int(payload[payload.startIndex]) << 8 | Int(payload[payload.startIndex + 1])
            case 0xDA:
                let payload = try segment(marker)
                guard let frame else { throw JPEGFailure("a scan (SOS) before the frame header (SOF)") }
                scanCount += 1
                guard scanCount <= Self.maxScans else { throw JPEGFailure("more than \(Self.maxScans) scans") }
                try decodeScan(JPEGScanHeader(payload: payload, frame: frame))
            case 0xD8:
                throw JPEGFailure("a second start-of-image marker at byte \(position - 2)")
            case 0xDC:
                throw JPEGFailure("DNL markers (height defined after the first scan) are not supported")
            case 0xD0...0xD7, 0x01:
                continue  // a stray restart marker or TEM: no payload
            default:
                // APPn (JFIF, Exif, ICC, XMP, Adobe), COM and other segments with a length.
                let payload = try segment(marker)
                if marker == 0xE0 && payload.starts(with: Array("JFIF\0".utf8)) { sawJFIF = true }
                if marker == 0xEE && payload.count >= 12 && payload.starts(with: Array("Adobe".utf8)) {
                    adobeTransform = Int(payload[payload.startIndex + 11])
                }
            }
        }
        guard let frame else { throw JPEGFailure("no frame header (SOF) before the end of the image") }
        if let missing = scanned.firstIndex(of: false) {
            throw JPEGFailure("component \(frame.components[missing].id) has no scan data")
        }
        return try JPEGColour.image(frame: frame, planes: samplePlanes(frame), colourSpace: colourSpace(frame))
    }

    /// The next marker code, skipping fill bytes (0xFF) and any stray bytes before it; nil at the end of data.
    mutating func nextMarker() -> UInt8? {
        while true {
            while position < bytes.count && bytes[position] != 0xFF { position += 1 }
            while position < bytes.count && bytes[position] == 0xFF { position += 1 }
            guard position < bytes.count else { return nil }
            let marker = bytes[position]
            position += 1
            if marker != 0 { return marker }  // FF 00 is stuffed data outside a scan: keep looking
        }
    }

    /// The payload of the segment at `position` (after its 2-byte length), moving past it.
    mutating func segment(_ marker: UInt8) throws -> ArraySlice<UInt8> {
        guard position + 2 <= bytes.count else {
            throw JPEGFailure("the file ends inside the length of marker FF \(hex(marker)) (truncated)")
        }
        let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
        guard length >= 2 else { throw JPEGFailure("marker FF \(hex(marker)) declares length \(length) (at least 2)") }
        guard position + length <= bytes.count else {
            throw JPEGFailure("marker FF \(hex(marker)) declares \(length) bytes but the file ends first (truncated)")
        }
        defer { position += length }
        return bytes[(position + 2)..<(position + length)]
    }

    /// DQT: one or more tables of 64 8-bit or 16-bit values in zig-zag order.
    mutating func readQuantTables(_ p: ArraySlice<UInt8>) throws {
        var at = p.startIndex
        while at < p.endIndex {
            let precision = Int(p[at] >> 4)
            let index = Int(p[at] & 15)
            guard precision <= 1, index <= 3 else {
                throw JPEGFailure(
                    "DQT defines table \(index) with precision \(precision) (table at most 3, precision 0 or 1)")
            }
            let size = 64 * (precision + 1)
            guard at + 1 + size <= p.endIndex else { throw JPEGFailure("DQT table \(index) is cut short") }
            var table = [Int](repeating: 0, count: 64)
            for k in 0..<64 {
                let value = precision == 0 ? Int(p[at + 1 + k]) : Int(p[at + 1 + 2 * k]) << 8 | Int(p[at + 2 + 2 * k])
                table[JPEGScanDecoding.naturalOrder[k]] = value
            }
            quantTables[index] = table
            at += 1 + size
        }
    }

    /// DHT: one or more tables, each a class/index byte, 16 code counts and the symbols.
    mutating func readHuffmanTables(_ p: ArraySlice<UInt8>) throws {
        var at = p.startIndex
        while at < p.endIndex {
            let tableClass = Int(p[at] >> 4)
            let index = Int(p[at] & 15)
            guard tableClass <= 1, index <= 3 else {
                throw JPEGFailure(
                    "DHT defines table class \(tableClass) index \(index) (class 0 or 1, index at most 3)")
            }
            guard at + 17 <= p.endIndex else { throw JPEGFailure("DHT table \(index) is cut short") }
            let counts = (0..<16).map { Int(p[at + 1 + $0]) }
            let total = counts.reduce(0, +)
            guard at + 17 + total <= p.endIndex else { throw JPEGFailure("DHT table \(index) is cut short") }
            let table = try JPEGHuffmanTable(
                counts: counts, symbols: Array(p[(at + 17)..<(at + 17 + total)]),
                isDC: tableClass == 0)
            if tableClass == 0 { dcTables[index] = table } else { acTables[index] = table }
            at += 17 + total
        }
    }

    /// How the components are to be read, decided as libjpeg does (jdapimin.c `default_decompress_parms`).
    func colourSpace(_ frame: JPEGFrame) -> JPEGColour.Space {
        switch frame.components.count {
        case 1: return .gray
        case 3:
            if sawJFIF { return .yCbCr }
            if let adobeTransform { return adobeTransform == 0 ? .rgb : .yCbCr }
            let ids = frame.components.map(\.id)
            return ids == [82, 71, 66] ? .rgb : .yCbCr  // 'R', 'G', 'B'
        default:
            // libjpeg: Adobe transform 0 means CMYK, any other YCCK; without an Adobe segment, CMYK.
            if let adobeTransform, adobeTransform != 0 { return .yccK }
            return .cmyk
        }
    }

    func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
