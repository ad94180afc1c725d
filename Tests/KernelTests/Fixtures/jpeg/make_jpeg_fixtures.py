"""Makes the JPEG fixtures of JPEGDecoderTests: small JPEG files (PIL / libjpeg-turbo, and cjpeg from
libjpeg-turbo-progs for the sampling factors PIL cannot write) and, next to each X.jpg, X.png holding what PIL
decodes it to: Image.open("X.jpg").convert("RGB") (libjpeg-turbo: islow IDCT, fancy upsampling).

Run from this directory: python3 make_jpeg_fixtures.py   (needs pillow, numpy, cjpeg on PATH)
Files named reject_*.jpg are valid JPEGs our decoder refuses on purpose (no .png for them).
"""
import io
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))


def picture(w, h, seed):
    """Smooth gradients, a sharp-edged disc, stripes and a little noise: every frequency band gets energy."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / max(w, 1) * 3.1 + seed) * np.cos(y / max(h, 1) * 2.3)
    g = 255 * x / max(w - 1, 1) * 0.7 + 40 * ((x // 3 + y // 2) % 2)
    b = 255 * y / max(h - 1, 1)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.3) ** 2
    r[disc] = 250
    g[disc] = 30
    b[disc] = 60
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def reference(name):
    """Writes X.png: PIL's RGB decode of X.jpg."""
    with Image.open(os.path.join(HERE, name + ".jpg")) as im:
        im.convert("RGB").save(os.path.join(HERE, name + ".png"), optimize=True)


def pil(name, w, h, seed, mode="RGB", **options):
    im = picture(w, h, seed)
    if mode == "L":
        im = im.convert("L")
    elif mode == "CMYK":
        im = im.convert("CMYK")
    im.save(os.path.join(HERE, name + ".jpg"), "JPEG", **options)
    reference(name)


def cjpeg(name, w, h, seed, arguments, keep_reference=True):
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "in.ppm")
        picture(w, h, seed).save(ppm)
        subprocess.run(["cjpeg", *arguments, "-outfile", os.path.join(HERE, name + ".jpg"), ppm], check=True)
    if keep_reference:
        reference(name)


def main():
    for f in os.listdir(HERE):
        if f.endswith(".jpg") or f.endswith(".png"):
            os.remove(os.path.join(HERE, f))
    # PIL: baseline at several sizes, qualities and subsamplings (0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0).
    pil("rgb_1x1_q90_444", 1, 1, 1, quality=90, subsampling=0)
    pil("rgb_2x2_q90_420", 2, 2, 2, quality=90, subsampling=2)
    pil("rgb_3x5_q90_420", 3, 5, 3, quality=90, subsampling=2)
    pil("rgb_7x5_q90_420", 7, 5, 4, quality=90, subsampling=2)
    pil("rgb_17x9_q50_422", 17, 9, 5, quality=50, subsampling=1)
    pil("rgb_33x31_q100_444", 33, 31, 6, quality=100, subsampling=0)
    pil("rgb_64x48_q90_420", 64, 48, 7, quality=90, subsampling=2)
    pil("rgb_45x37_q75_420_optimize", 45, 37, 8, quality=75, subsampling=2, optimize=True)
    # Progressive (PIL uses libjpeg's standard progression: DC, spectral bands, successive approximation).
    pil("rgb_64x48_q90_420_progressive", 64, 48, 9, quality=90, subsampling=2, progressive=True)
    pil("rgb_33x31_q50_422_progressive", 33, 31, 10, quality=50, subsampling=1, progressive=True)
    pil("rgb_19x23_q100_444_progressive", 19, 23, 11, quality=100, subsampling=0, progressive=True)
    # Grayscale.
    pil("gray_17x9_q90", 17, 9, 12, mode="L", quality=90)
    pil("gray_33x31_q75_progressive", 33, 31, 13, mode="L", quality=75, progressive=True)
    # Restart markers: every 3 MCUs, and every MCU row (progressive too).
    pil("rgb_40x24_q90_420_restart3", 40, 24, 14, quality=90, subsampling=2, restart_marker_blocks=3)
    pil("rgb_37x29_q85_444_restartrow", 37, 29, 15, quality=85, subsampling=0, restart_marker_rows=1)
    pil("rgb_37x29_q85_420_progressive_restart", 37, 29, 16, quality=85, subsampling=2, progressive=True,
        restart_marker_blocks=2)
    # APP segments to skip: Exif, an ICC profile, a comment.
    exif = Image.Exif()
    exif[0x010F] = "SkillTune test camera"
    exif[0x0112] = 1
    pil("rgb_16x16_q90_420_exif_icc", 16, 16, 17, quality=90, subsampling=2, exif=exif.tobytes(),
        icc_profile=bytes(range(256)) * 4, comment=b"fixture")
    # RGB components (no colour transform) and CMYK (Adobe, inverted).
    pil("rgb_19x13_q90_keep_rgb", 19, 13, 18, quality=90, keep_rgb=True, subsampling=0)
    pil("cmyk_13x11_q90", 13, 11, 19, mode="CMYK", quality=90)
    # cjpeg: sampling factors PIL cannot write (Y first, then Cb, Cr).
    cjpeg("rgb_23x19_440", 23, 19, 20, ["-quality", "90", "-sample", "1x2,1x1,1x1"])
    cjpeg("rgb_29x11_411", 29, 11, 21, ["-quality", "90", "-sample", "4x1,1x1,1x1"])
    cjpeg("rgb_31x17_h3v1", 31, 17, 22, ["-quality", "90", "-sample", "3x1,1x1,1x1"])
    cjpeg("rgb_25x21_h3v2", 25, 21, 23, ["-quality", "85", "-sample", "3x2,1x1,1x1"])
    cjpeg("rgb_27x22_mixed_2x2_1x2_1x1", 27, 22, 24, ["-quality", "90", "-sample", "2x2,1x2,1x1"])
    cjpeg("rgb_35x26_h4v1_h2v1", 35, 26, 25, ["-quality", "90", "-sample", "4x1,2x1,2x1"])
    cjpeg("rgb_21x27_2x2_2x1_1x1", 21, 27, 32, ["-quality", "90", "-sample", "2x2,2x1,1x1"])
    cjpeg("rgb_30x26_440_progressive_restart", 30, 26, 26,
          ["-quality", "80", "-sample", "1x2,1x1,1x1", "-progressive", "-restart", "1"])
    cjpeg("gray_21x13_h2v2", 21, 13, 27, ["-quality", "90", "-grayscale", "-sample", "2x2"])
    cjpeg("rgb_22x14_rgb_components", 22, 14, 28, ["-quality", "90", "-rgb"])
    cjpeg("rgb_26x18_q95_baseline_optimize_restart", 26, 18, 29,
          ["-quality", "95", "-optimize", "-restart", "2B", "-sample", "2x1,1x1,1x1"])
    # Refused on purpose: arithmetic coding.
    cjpeg("reject_arithmetic", 9, 9, 30, ["-arithmetic"], keep_reference=False)
    # Larger picture for the speed test (no reference kept: the test only times it and checks its size).
    # Smoothed so it compresses like a photograph rather than noise.
    big = picture(640, 480, 31).filter(ImageFilter.GaussianBlur(2))
    big.save(os.path.join(HERE, "speed_640x480_q85_420.jpg"), quality=85, subsampling=2)
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in os.listdir(HERE))
    print(f"{len(os.listdir(HERE))} files, {total} bytes")


if __name__ == "__main__":
    main()
