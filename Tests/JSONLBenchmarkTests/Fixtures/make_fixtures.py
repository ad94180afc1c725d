"""Writes the image fixtures of JSONLBenchmarkTests (Python's zlib and struct only). Run from this directory."""
import struct
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# A 3x2 blue PNG (zlib level 9).
raw = b"".join(b"\x00" + bytes([20, 40, 230]) * 3 for _ in range(2))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
open("images/blue.png", "wb").write(png)
# A 2x2 red ASCII PPM with a comment.
open("images/red.ppm", "w").write("P3\n# red square\n2 2\n255\n" + "230 20 20 " * 4 + "\n")
# A file that claims to be a PNG but is cut short.
open("images/broken.png", "wb").write(png[:30])
