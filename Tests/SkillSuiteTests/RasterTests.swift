import Kernel
import SkillSuite
import XCTest

final class RasterTests: XCTestCase {
    func testCanvasIsPixelAlignedAt32AndScalesWithSize() {
        var small = Canvas(size: 32, background: RGB(0, 0, 0))
        small.fillRect(x: 3, y: 4, width: 2, height: 1, RGB(255, 0, 0))
        XCTAssertEqual(small.pixel(3, 4), RGB(255, 0, 0))
        XCTAssertEqual(small.pixel(4, 4), RGB(255, 0, 0))
        XCTAssertEqual(small.pixel(5, 4), RGB(0, 0, 0))
        XCTAssertEqual(small.pixel(3, 5), RGB(0, 0, 0))
        var large = Canvas(size: 64, background: RGB(0, 0, 0))
        large.fillRect(x: 3, y: 4, width: 2, height: 1, RGB(255, 0, 0))
        let lit = (0..<64).flatMap { y in (0..<64).map { (x: $0, y: y) } }.filter {
            large.pixel($0.x, $0.y) != RGB(0, 0, 0)
        }
        XCTAssertEqual(lit.count, 8, "a 2x1 design rectangle covers 4x2 pixels at 64x64")
        XCTAssertEqual(Set(lit.map(\.x)), [6, 7, 8, 9])
    }

    func testFontDrawsDistinctGlyphsForEveryCharacter() {
        var seen: [[UInt8]: Character] = [:]
        for c in BitmapFont.characters {
            let glyph = BitmapFont.glyph(c)
            XCTAssertEqual(glyph.count, 7)
            XCTAssertTrue(glyph.allSatisfy { $0 < 32 }, "\(c) fits 5 columns")
            XCTAssertTrue(glyph.contains { $0 != 0 }, "\(c) is not blank")
            XCTAssertNil(seen[glyph], "\(c) looks like \(seen[glyph] ?? " ")")
            seen[glyph] = c
        }
        XCTAssertTrue(Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:.-?").isSubset(of: BitmapFont.characters))
        XCTAssertEqual(BitmapFont.glyph("a"), BitmapFont.glyph("A"))
        XCTAssertEqual(BitmapFont.width(of: "STOP"), 23)
        XCTAssertEqual(BitmapFont.width(of: "STOP", advance: 8), 29, "one character per 8-pixel cell")
        var canvas = Canvas(size: 32, background: RGB(0, 0, 0))
        XCTAssertEqual(canvas.text("I", x: 0, y: 0, RGB(9, 9, 9)), 5)
        XCTAssertEqual(canvas.text("AB", x: 0, y: 20, pixelSize: 0.5, advance: 8, RGB(9, 9, 9)), 6.5)
        XCTAssertEqual(canvas.pixel(2, 3), RGB(9, 9, 9), "the stem of I")
        XCTAssertEqual(canvas.pixel(0, 3), RGB(0, 0, 0))
    }

    func testShapesDifferFromOneAnother() {
        var masks: [ShapeKind: [Bool]] = [:]
        for kind in ShapeKind.allCases {
            var canvas = Canvas(size: 32, background: RGB(0, 0, 0))
            canvas.shape(kind, cx: 16, cy: 16, size: 10, RGB(255, 255, 255))
            masks[kind] = (0..<(32 * 32)).map { canvas.pixel($0 % 32, $0 / 32) != RGB(0, 0, 0) }
            XCTAssertGreaterThan(masks[kind]!.filter { $0 }.count, 20, "\(kind) covers some pixels")
        }
        for a in ShapeKind.allCases {
            for b in ShapeKind.allCases where a.rawValue < b.rawValue {
                let differing = zip(masks[a]!, masks[b]!).filter { $0 != $1 }.count
                XCTAssertGreaterThan(differing, 10, "\(a) and \(b) look alike")
            }
        }
    }

    func testTexturesAndClockHands() {
        var canvas = Canvas(size: 32, background: RGB(0, 0, 0))
        canvas.fill(.stripes(direction: 0, period: 4, ink: 2, phase: 0), ink: RGB(1, 1, 1), ground: RGB(2, 2, 2))
        XCTAssertEqual(canvas.pixel(5, 0), RGB(1, 1, 1))
        XCTAssertEqual(canvas.pixel(5, 2), RGB(2, 2, 2))
        XCTAssertEqual(canvas.pixel(9, 4), RGB(1, 1, 1))
        // 3:00: the minute hand points up, the hour hand right.
        var clock = Canvas(size: 32, background: RGB(0, 0, 0))
        clock.clock(
            cx: 16, cy: 16, radius: 15, hour: 3, minute: 0,
            style: ClockStyle(
                face: RGB(255, 255, 255), rim: RGB(0, 0, 255), hands: RGB(255, 0, 0), ticks: RGB(0, 255, 0)))
        XCTAssertEqual(clock.pixel(16, 5), RGB(255, 0, 0), "minute hand up")
        XCTAssertEqual(clock.pixel(22, 16), RGB(255, 0, 0), "hour hand right")
        XCTAssertEqual(clock.pixel(10, 16), RGB(255, 255, 255), "nothing left of centre")
    }

    func testSpeciesAreDistinctAndEachHasASisterOneAttributeAway() {
        let species = SpeciesBenchmark.species
        XCTAssertEqual(species.count, 26)
        XCTAssertEqual(Set(species).count, 26)
        func distance(_ a: BirdLooks, _ b: BirdLooks) -> Int {
            [a.body != b.body, a.head != b.head, a.wing != b.wing, a.beak != b.beak, a.tail != b.tail].filter { $0 }
                .count
        }
        for (i, s) in species.enumerated() {
            XCTAssertTrue(species.contains { distance($0, s) == 1 }, "species \(i) has a sister")
            XCTAssertNotEqual(s.head, s.body, "species \(i): the head stands out from the body")
        }
    }
}
