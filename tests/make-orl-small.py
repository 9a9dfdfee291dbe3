#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Regenerates tests/data/orl-small/orl-small.pgm from the ORL faces.

The ORL (AT&T) Database of Faces was taken 1992-1994 at the Olivetti
Research Laboratory, Cambridge; credit goes to the Olivetti Research
Laboratory.  This takes subjects s1-s20, images 1-10 (92x112 grey),
shrinks each by averaging 4x4 blocks to 23x28, and writes one binary PGM
montage: row r holds subject s(r+1), column c its image c+1.

Usage: tests/make-orl-small.py [ORL_DIR [OUT_FILE]]
ORL_DIR defaults to ../shared/data/faces/orl-dev beside the checkout.
"""
import os
import sys

SUBJECTS = 20
IMAGES = 10
SRC_W, SRC_H = 92, 112
F = 4
W, H = SRC_W // F, SRC_H // F


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte after maxval
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P5" or (w, h) != (SRC_W, SRC_H) or maxval != 255:
        sys.exit(f"{path}: expected a {SRC_W}x{SRC_H} 8-bit binary PGM")
    return data[pos:pos + w * h]


def shrink(pixels):
    out = bytearray(W * H)
    for y in range(H):
        for x in range(W):
            s = 0
            for dy in range(F):
                row = (y * F + dy) * SRC_W + x * F
                s += sum(pixels[row:row + F])
            out[y * W + x] = (s + F * F // 2) // (F * F)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "shared", "data", "faces", "orl-dev")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        here, "data", "orl-small", "orl-small.pgm")
    mw, mh = W * IMAGES, H * SUBJECTS
    montage = bytearray(mw * mh)
    for s in range(SUBJECTS):
        for i in range(IMAGES):
            tile = shrink(read_pgm(os.path.join(src, f"s{s + 1}", f"{i + 1}.pgm")))
            for y in range(H):
                row = (s * H + y) * mw + i * W
                montage[row:row + W] = tile[y * W:(y + 1) * W]
    header = (f"P5\n# ORL faces s1-s{SUBJECTS}, {IMAGES} images each, {W}x{H} tiles;"
              f" credit: Olivetti Research Laboratory\n{mw} {mh}\n255\n")
    with open(out, "wb") as f:
        f.write(header.encode("ascii") + bytes(montage))


if __name__ == "__main__":
    main()
