/// One colour component of a JPEG frame (SOF): its sampling factors and where its coefficients live.
struct JPEGComponent {
    /// The component identifier scans refer to.
    let id: UInt8
    /// Horizontal and vertical sampling factors (1...4).
    let h: Int
    let v: Int
    /// Which quantisation table (0...3) the frame assigns.
    let quantTable: Int
    /// Samples per row and rows of this component: ceil(width * h / hMax) x ceil(height * v / vMax).
    var width = 0
    var height = 0
    /// Blocks per row and block rows, padded to whole MCUs of an interleaved scan.
    var blocksPerLine = 0
    var blocksPerColumn = 0
    /// Offset of this component's blocks (64 coefficients each, natural order) in the decoder's buffer.
    var coefficientOffset = 0
    /// The quantisation table (natural order) latched when the component's first scan starts, as libjpeg does.
    var quant: [Int]?
}

/// The frame header: image size, coding process and components, with the MCU geometry derived from them.
struct JPEGFrame {
    var width: Int
    var height: Int
    var progressive: Bool
    var components: [JPEGComponent]
    var hMax: Int
    var vMax: Int
    /// MCUs per row and MCU rows of an interleaved scan: ceil(width / (8 hMax)) x ceil(height / (8 vMax)).
    var mcusPerLine: Int
    var mcusPerColumn: Int
    /// Coefficients of all components together.
    var coefficientCount: Int

    /// Parses an SOF0/1/2 payload and checks the size against `limits` before anything is allocated.
    init(payload p: ArraySlice<UInt8>, progressive: Bool, limits: ImageLimits, file: String) throws {
        guard p.count >= 6 else {
            throw JPEGFailure("the frame header (SOF) has \(p.count) bytes, expected at least 6")
        }
        let s = p.startIndex
        let precision = Int(p[s])
        height = Int(p[s + 1]) << 8 | Int(p[s + 2])
        width = Int(p[s + 3]) << 8 | Int(p[s + 4])
        let count = Int(p[s + 5])
        guard precision == 8 else { throw JPEGFailure("\(precision)-bit samples are not supported (only 8-bit)") }
        guard height > 0 else {
            throw JPEGFailure("the frame declares height 0 (a DNL marker supplies it later), which is not supported")
        }
        try limits.check(width: width, height: height, format: "JPEG", file: file)
        guard [1, 3, 4].contains(count) else {
            throw JPEGFailure("\(count) components are not supported (1 gray, 3 YCbCr/RGB or 4 CMYK/YCCK)")
        }
        guard p.count == 6 + 3 * count else {
            throw JPEGFailure(
                "the frame header (SOF) has \(p.count) bytes, expected \(6 + 3 * count) for \(count) components")
        }
        self.progressive = progressive
        components = []
        for i in 0..<count {
            let at = s + 6 + 3 * i
            let h = Int(p[at + 1] >> 4)
            let v = Int(p[at + 1] & 15)
            let tq = Int(p[at + 2])
            guard (1...4).contains(h), (1...4).contains(v) else {
                throw JPEGFailure("component \(p[at]) has sampling factors \(h)x\(v) (each must be 1 to 4)")
            }
            guard tq <= 3 else { throw JPEGFailure("component \(p[at]) uses quantisation table \(tq) (at most 3)") }
            guard !components.contains(where: { $0.id == p[at] }) else {
                throw JPEGFailure("component identifier \(p[at]) appears twice in the frame header")
            }
            components.append(JPEGComponent(id: p[at], h: h, v: v, quantTable: tq))
        }
        hMax = components.map(\.h).max()!
        vMax = components.map(\.v).max()!
        for c in components where hMax % c.h != 0 || vMax % c.v != 0 {
            throw JPEGFailure(
                "component \(c.id) has sampling factors \(c.h)x\(c.v), not an integral fraction of \(hMax)x\(vMax)")
        }
        mcusPerLine = (width + 8 * hMax - 1) / (8 * hMax)
        mcusPerColumn = (height + 8 * vMax - 1) / (8 * vMax)
        coefficientCount = 0
        for i in components.indices {
            components[i].width = (width * components[i].h + hMax - 1) / hMax
            components[i].height = (height * components[i].v + vMax - 1) / vMax
            components[i].blocksPerLine = mcusPerLine * components[i].h
            components[i].blocksPerColumn = mcusPerColumn * components[i].v
            components[i].coefficientOffset = coefficientCount
            coefficientCount += components[i].blocksPerLine * components[i].blocksPerColumn * 64
        }
    }
}

/// The start-of-scan header: which components the scan codes, with which tables, and the spectral band and
/// successive-approximation bits of a progressive scan.
struct JPEGScanHeader {
    /// Indices into the frame's components, in scan order.
    var components: [Int]
    var dcTables: [Int]
    var acTables: [Int]
    /// Spectral selection start and end (zig-zag indices) and successive approximation high and low bits.
    var ss: Int
    var se: Int
    var ah: Int
    var al: Int

    init(payload p: ArraySlice<UInt8>, frame: JPEGFrame) throws {
        let s = p.startIndex
        guard p.count >= 1 else { throw JPEGFailure("empty scan header (SOS)") }
        let count = Int(p[s])
        guard (1...4).contains(count), count <= frame.components.count else {
            throw JPEGFailure("the scan header (SOS) names \(count) components (1 to \(frame.components.count))")
        }
        guard p.count == 4 + 2 * count else {
            throw JPEGFailure("the scan header (SOS) has \(p.count) bytes, expected \(4 + 2 * count)")
        }
        components = []
        dcTables = []
        acTables = []
        for i in 0..<count {
            let id = p[s + 1 + 2 * i]
            guard let index = frame.components.firstIndex(where: { $0.id == id }) else {
                throw JPEGFailure("the scan names component \(id), which the frame does not have")
            }
            guard !components.contains(index) else { throw JPEGFailure("the scan names component \(id) twice") }
            let tables = p[s + 2 + 2 * i]
            guard tables >> 4 <= 3, tables & 15 <= 3 else {
                throw JPEGFailure("component \(id) selects Huffman tables \(tables >> 4)/\(tables & 15) (at most 3)")
            }
            components.append(index)
            dcTables.append(Int(tables >> 4))
            acTables.append(Int(tables & 15))
        }
        let at = s + 1 + 2 * count
        ss = Int(p[at])
        se = Int(p[at + 1])
        ah = Int(p[at + 2] >> 4)
        al = Int(p[at + 2] & 15)
        if frame.progressive {
            let valid =
                ss == 0
                ? se == 0  // a DC scan
                : (ss <= se && se <= 63 && count == 1)  // an AC scan codes one component
            guard valid, ah <= 13, al <= 13, ah == 0 || al == ah - 1 else {
                throw JPEGFailure(
                    "invalid progressive scan parameters Ss=\(ss) Se=\(se) Ah=\(ah) Al=\(al) for \(count) components")
            }
        } else {
            guard ss == 0, se == 63, ah == 0, al == 0 else {
                throw JPEGFailure("a sequential scan must have Ss=0 Se=63 Ah=0 Al=0, found \(ss) \(se) \(ah) \(al)")
            }
        }
        if count > 1 {
            let blocks = components.reduce(0) { $0 + frame.components[$1].h * frame.components[$1].v }
            guard blocks <= 10 else {
                throw JPEGFailure("an interleaved scan has \(blocks) blocks per MCU (at most 10)")
            }
        }
    }
}
