#!/usr/bin/env python3
"""The trivial sampler `rgsweep bench external` times the protocol with: random +-1 spins from
a 64-bit LCG seeded by the request (standard library only), written as int8 .npy with integer
energies. It does almost nothing, so what a run costs beyond spawning it is the protocol."""
import json
import os
import struct
import sys

if sys.argv[1:] == ["--version"]:
    print("trivial 1")
    sys.exit(0)
r = json.load(sys.stdin)
n, side, dim = r["count"], r["size"], r["dim"]


def save(path, descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)


x = r["seed"]
spins = bytearray()
for _ in range(n * side**dim):
    x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    spins.append(1 if x >> 63 else 255)
save(os.path.join(r["output_dir"], "configurations.npy"), "|i1", (n,) + (side,) * dim, bytes(spins))
save(os.path.join(r["output_dir"], "energy.npy"), "<i8", (n,), struct.pack("<%dq" % n, *range(n)))
