"""Writes the PNG fixtures of ImageCodecTests with Python's zlib and struct only (no PIL).

Run from this directory: python3 make_png_fixtures.py
Pixel values follow formulas that the Swift test recomputes (see `fixturePixel` in ImageCodecTests.swift).
Rows cycle through the five PNG filter types so the decoder's unfiltering is checked against an encoder we
did not write.
"""
import struct
import zlib


def sample(x, y, c, kind):
    if kind == "rgb":
        return [(x * 37 + y * 11) % 256, (x * x + 3 * y) % 256, ((x ^ y) * 17) % 256][c]
    if kind == "rgba":
        return [(x * 50 + 7) % 256, (y * 60 + 3) % 256, (x * y * 13) % 256, (x * 40 + y * 30 + 15) % 256][c]
    return (x * 29 + y * 41) % 256  # gray


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filtered_rows(width, height, channels, kind):
    rows = [[sample(x, y, c, kind) for x in range(width) for c in range(channels)] for y in range(height)]
    out = bytearray()
    for y, row in enumerate(rows):
        ftype = y % 5
        prev = rows[y - 1] if y > 0 else [0] * len(row)
        out.append(ftype)
        for i, v in enumerate(row):
            a = row[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            out.append((v - pred) % 256)
    return bytes(out)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write(name, width, height, colour_type, channels, kind, level):
    raw = filtered_rows(width, height, channels, kind)
    z = zlib.compress(raw, level)
    btype = (z[2] >> 1) & 3
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    png += chunk(b"tEXt", b"Comment\x00made by make_png_fixtures.py")  # an ancillary chunk to skip
    # Split the zlib stream over two IDAT chunks: decoders must concatenate them.
    half = len(z) // 2
    png += chunk(b"IDAT", z[:half]) + chunk(b"IDAT", z[half:]) + chunk(b"IEND", b"")
    open(name, "wb").write(png)
    print(name, width, height, "first deflate block type", btype, len(png), "bytes")


write("rgb_filters_dynamic.png", 40, 30, 2, 3, "rgb", 9)
write("rgba_small_fixed.png", 5, 4, 6, 4, "rgba", 9)
write("gray_filters.png", 9, 7, 0, 1, "gray", 1)
write("rgb_stored.png", 3, 2, 2, 3, "rgb", 0)
