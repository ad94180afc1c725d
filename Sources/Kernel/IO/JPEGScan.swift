/// Constants of entropy-coded scans.
enum JPEGScanDecoding {
    /// `naturalOrder[k]` is the row-major position (8 * row + column) of zig-zag coefficient k.
    static let naturalOrder: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
        21,
        28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
        54, 47, 55, 62, 63,
    ]
}

/// The kinds of scan (T.81 G.1.2): sequential, and the four passes of progressive coding.
private enum ScanKind { case sequential, dcFirst, dcRefine, acFirst, acRefine }

extension JPEGDecoder {
    /// Decodes the entropy-coded data of one scan (starting at `position`) into `coefficients`, honouring restart
    /// markers, and leaves `position` at the marker after the data. Throws on corrupt codes and on data that
    /// ends before the scan's last MCU.
    mutating func decodeScan(_ scan: JPEGScanHeader) throws {
        guard let frame else { return }
        if coefficients.isEmpty { coefficients = [Int16](repeating: 0, count: frame.coefficientCount) }
        let kind: ScanKind =
            !frame.progressive
            ? .sequential
            : scan.ss == 0 ? (scan.ah == 0 ? .dcFirst : .dcRefine) : (scan.ah == 0 ? .acFirst : .acRefine)
        // Tables each kind needs, checked now so a missing one is reported as such.
        var dc: [JPEGHuffmanTable] = []
        var ac: [JPEGHuffmanTable] = []
        for (i, ci) in scan.components.enumerated() {
            let id = frame.components[ci].id
            if kind == .sequential || kind == .dcFirst {
                guard let table = dcTables[scan.dcTables[i]] else {
                    throw JPEGFailure("component \(id) uses DC Huffman table \(scan.dcTables[i]), which is not defined")
                }
                dc.append(table)
            }
            if kind == .sequential || kind == .acFirst || kind == .acRefine {
                guard let table = acTables[scan.acTables[i]] else {
                    throw JPEGFailure("component \(id) uses AC Huffman table \(scan.acTables[i]), which is not defined")
                }
                ac.append(table)
            }
            if self.frame!.components[ci].quant == nil {
                guard let table = quantTables[frame.components[ci].quantTable] else {
                    throw JPEGFailure(
                        "component \(id) uses quantisation table \(frame.components[ci].quantTable), which is not defined"
                    )
                }
                self.frame!.components[ci].quant = table
            }
            scanned[ci] = true
        }

        // MCU geometry: a one-component scan codes that component's blocks in raster order, one per MCU; an
        // interleaved scan codes h x v blocks of each component per MCU.
        let single = scan.components.count == 1
        let first = frame.components[scan.components[0]]
        let mcusPerLine = single ? (first.width + 7) / 8 : frame.mcusPerLine
        let mcuRows = single ? (first.height + 7) / 8 : frame.mcusPerColumn
        // Per scan component: first coefficient, blocks per row, and blocks per MCU across and down.
        let offsets = scan.components.map { frame.components[$0].coefficientOffset }
        let lines = scan.components.map { frame.components[$0].blocksPerLine }
        let across = scan.components.map { single ? 1 : frame.components[$0].h }
        let down = scan.components.map { single ? 1 : frame.components[$0].v }
        let ss = scan.ss
        let se = scan.se
        let al = scan.al
        var reader = JPEGBitReader(data: bytes, position: position)
        var predictions = [Int](repeating: 0, count: scan.components.count)
        var eobrun = 0
        var mcu = 0
        // The coefficients are moved out of `self` while the scan writes them through a pointer.
        var buffer: [Int16] = []
        swap(&buffer, &coefficients)
        defer { swap(&buffer, &coefficients) }
        try buffer.withUnsafeMutableBufferPointer { coefficientBuffer in
            let coef = coefficientBuffer.baseAddress!
            for mcuY in 0..<mcuRows {
                for mcuX in 0..<mcusPerLine {
                    if restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0 {
                        try restart(&reader, afterMCU: mcu)
                        for i in predictions.indices { predictions[i] = 0 }
                        eobrun = 0
                    }
                    for i in 0..<offsets.count {
                        let bh = across[i]
                        let bv = down[i]
                        for by in 0..<bv {
                            for bx in 0..<bh {
                                let row = mcuY * bv + by
                                let column = mcuX * bh + bx
                                let block = coef + offsets[i] + (row * lines[i] + column) * 64
                                switch kind {
                                case .sequential:
                                    try Self.decodeSequentialBlock(&reader, block, dc[i], ac[i], &predictions[i])
                                case .dcFirst:
                                    let diff = reader.receiveExtend(try reader.decode(dc[i]))
                                    predictions[i] &+= diff
                                    block[0] = Int16(truncatingIfNeeded: predictions[i] << al)
                                case .dcRefine:
                                    if reader.bit() { block[0] |= Int16(truncatingIfNeeded: 1 << al) }
                                case .acFirst:
                                    try Self.decodeACFirst(
                                        &reader, block, ac[i], ss: ss, se: se, al: al, eobrun: &eobrun)
                                case .acRefine:
                                    try Self.decodeACRefine(
                                        &reader, block, ac[i], ss: ss, se: se, al: al, eobrun: &eobrun)
                                }
                            }
                        }
                    }
                    mcu += 1
                }
                if reader.ranPastData {
                    throw JPEGFailure(
                        "scan \(scanCount) ends before MCU row \(mcuY + 1) of \(mcuRows) is complete (truncated or corrupt data)"
                    )
                }
            }
        }
        position = markerPosition(from: reader.position)
    }

    /// The position of the next marker's 0xFF at or after `start`, skipping stuffed bytes (FF 00) and the
    /// padding of the last entropy-coded byte.
    func markerPosition(from start: Int) -> Int {
        var p = start
        while p < bytes.count {
            if bytes[p] == 0xFF {
                if p + 1 < bytes.count && bytes[p + 1] == 0 {
                    p += 2
                    continue
                }
                return p
            }
            p += 1
        }
        return p
    }

    /// Consumes the RSTn marker that must follow every `restartInterval` MCUs and restarts the bit reader after it.
    func restart(_ reader: inout JPEGBitReader, afterMCU mcu: Int) throws {
        if reader.ranPastData {
            throw JPEGFailure(
                "scan \(scanCount): the data before restart marker \(mcu / restartInterval) is truncated or corrupt")
        }
        var p = markerPosition(from: reader.position)
        while p < bytes.count && bytes[p] == 0xFF { p += 1 }
        guard p < bytes.count, (0xD0...0xD7).contains(bytes[p]) else {
            throw JPEGFailure("scan \(scanCount): expected a restart marker (RSTn) after MCU \(mcu)")
        }
        reader.reset(at: p + 1)
    }

    /// A sequential block (T.81 F.2.2): the DC difference, then run/size coded AC coefficients.
    @inline(__always)
    static func decodeSequentialBlock(
        _ reader: inout JPEGBitReader, _ block: UnsafeMutablePointer<Int16>,
        _ dc: JPEGHuffmanTable, _ ac: JPEGHuffmanTable, _ prediction: inout Int
    ) throws {
        let s = try reader.decode(dc)
        prediction &+= reader.receiveExtend(s)
        block[0] = Int16(truncatingIfNeeded: prediction)
        var k = 1
        while k < 64 {
            let rs = try reader.decode(ac)
            let r = rs >> 4
            let size = rs & 15
            if size != 0 {
                k += r
                guard k < 64 else { throw JPEGFailure("corrupt entropy-coded data: a coefficient run past the block") }
                block[JPEGScanDecoding.naturalOrder[k]] = Int16(truncatingIfNeeded: reader.receiveExtend(size))
                k += 1
            } else if r == 15 {
                k += 16  // ZRL: sixteen zeros
            } else {
                break  // EOB
            }
        }
    }

    /// The first pass over a band of AC coefficients (T.81 G.1.2.2), with end-of-band runs across blocks.
    @inline(__always)
    static func decodeACFirst(
        _ reader: inout JPEGBitReader, _ block: UnsafeMutablePointer<Int16>,
        _ ac: JPEGHuffmanTable, ss: Int, se: Int, al: Int, eobrun: inout Int
    ) throws {
        if eobrun > 0 {
            eobrun -= 1
            return
        }
        var k = ss
        while k <= se {
            let rs = try reader.decode(ac)
            let r = rs >> 4
            let size = rs & 15
            if size != 0 {
                k += r
                guard k <= se else { throw JPEGFailure("corrupt entropy-coded data: a coefficient run past the band") }
                block[JPEGScanDecoding.naturalOrder[k]] = Int16(truncatingIfNeeded: reader.receiveExtend(size) << al)
            } else if r == 15 {
                k += 15  // ZRL (the loop adds the sixteenth)
            } else {
                eobrun = (1 << r) - 1 + reader.bits(r)
                break
            }
            k += 1
        }
    }

    /// A refinement pass over a band of AC coefficients (T.81 G.1.2.3): one correction bit for every coefficient
    /// already nonzero, and new coefficients of magnitude 2^Al placed among the zeros.
    @inline(__always)
    static func decodeACRefine(
        _ reader: inout JPEGBitReader, _ block: UnsafeMutablePointer<Int16>,
        _ ac: JPEGHuffmanTable, ss: Int, se: Int, al: Int, eobrun: inout Int
    ) throws {
        let p1 = 1 << al
        let m1 = -1 << al
        var k = ss
        if eobrun == 0 {
            while k <= se {
                let rs = try reader.decode(ac)
                var r = rs >> 4
                var newValue = 0
                if rs & 15 != 0 {
                    newValue = reader.bit() ? p1 : m1
                } else if r != 15 {
                    eobrun = (1 << r) + reader.bits(r)
                    break
                }
                // Skip r zero coefficients (refining the nonzero ones met on the way), then place the new one.
                while k <= se {
                    let z = JPEGScanDecoding.naturalOrder[k]
                    if block[z] != 0 {
                        refine(&reader, block, z, p1: p1, m1: m1)
                    } else {
                        if r == 0 { break }
                        r -= 1
                    }
                    k += 1
                }
                if newValue != 0 {
                    guard k <= se else {
                        throw JPEGFailure("corrupt entropy-coded data: a coefficient run past the band")
                    }
                    block[JPEGScanDecoding.naturalOrder[k]] = Int16(truncatingIfNeeded: newValue)
                }
                k += 1
            }
        }
        if eobrun > 0 {
            // Inside an end-of-band run: only correction bits for the coefficients already nonzero.
            while k <= se {
                let z = JPEGScanDecoding.naturalOrder[k]
                if block[z] != 0 { refine(&reader, block, z, p1: p1, m1: m1) }
                k += 1
            }
            eobrun -= 1
        }
    }

    /// Reads a correction bit for a nonzero coefficient: 1 increases its magnitude by 2^Al (unless already done).
    @inline(__always)
    private static func refine(
        _ reader: inout JPEGBitReader, _ block: UnsafeMutablePointer<Int16>, _ z: Int,
        p1: Int, m1: Int
    ) {
        if reader.bit() && Int(block[z]) & p1 == 0 {
            block[z] = Int16(truncatingIfNeeded: Int(block[z]) + (block[z] >= 0 ? p1 : m1))
        }
    }
}
