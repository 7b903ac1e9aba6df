#!/usr/bin/env python3
"""check_samples.py BUILD_DIR - checks samples.json against the built images.

For every scenario: the image exists, each AEX's symbol is a function that
contains its RIP, the bytes at RIP are the listed instruction, RIP lies in
an executable PT_LOAD, and a 'base+0x...' MADDR lies in what 'maddr_in'
names (a symbol, or a TCS/GUARD region of the NT_SGXDBG_REGIONS note).
Every sample the Makefile builds has at least one scenario.
"""
import json
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REGION_KINDS = {1: "TCS", 2: "SSA", 3: "STACK", 4: "HEAP", 5: "GUARD", 6: "THREAD"}


class Image:
    def __init__(self, path):
        self.data = open(path, "rb").read()
        d = self.data
        phoff, = struct.unpack_from("<Q", d, 32)
        phnum, = struct.unpack_from("<H", d, 56)
        self.loads, self.regions = [], []
        for i in range(phnum):
            typ, flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", d, phoff + 56 * i)
            if typ == 1:
                self.loads.append((vaddr, memsz, off, filesz, flags))
            elif typ == 4:
                self.notes(off, filesz)
        self.symbols = {}
        out = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 8 and f[3] in ("FUNC", "OBJECT"):
                self.symbols[f[7]] = (int(f[1], 16), int(f[2], 0), f[3])

    def notes(self, off, size):
        o = off
        while o + 12 <= off + size:
            namesz, descsz, typ = struct.unpack_from("<III", self.data, o)
            name = self.data[o + 12:o + 12 + namesz]
            desc = o + 12 + (namesz + 3) // 4 * 4
            if name == b"SGXDBG\0" and typ == 2:
                for r in range(descsz // 32):
                    roff, rsize, kind, flags, tcs, _ = struct.unpack_from(
                        "<QQIIII", self.data, desc + 32 * r)
                    self.regions.append((roff, rsize, REGION_KINDS.get(kind, kind), flags, tcs))
            o = desc + (descsz + 3) // 4 * 4

    def read(self, vaddr, n):
        for start, memsz, off, filesz, _ in self.loads:
            if start <= vaddr and vaddr + n <= start + filesz:
                return self.data[off + vaddr - start:off + vaddr - start + n]
        return None

    def executable(self, vaddr):
        return any(s <= vaddr < s + m and fl & 1 for s, m, _, _, fl in self.loads)


def check(build):
    errors = []
    spec = json.load(open(os.path.join(HERE, "..", "samples.json")))
    mk = open(os.path.join(HERE, "..", "Makefile")).read()
    built = re.search(r"^SAMPLES := (.*)$", mk, re.M).group(1).split()
    named = {s["name"] for s in spec["scenarios"]}
    for s in sorted(set(built) - named):
        errors.append(f"{s}: built but has no scenario in samples.json")
    for s in sorted(named - set(built)):
        errors.append(f"{s}: in samples.json but not built")
    images = {}
    for sc in spec["scenarios"]:
        name = f"{sc['name']}/ecall {sc['ecall']}"
        for key in ("ecall", "args", "host_flags", "stdout", "stderr", "exit", "aex"):
            if key not in sc:
                errors.append(f"{name}: no '{key}'")
        path = os.path.join(build, sc["name"] + ".elf")
        if not os.path.exists(path):
            errors.append(f"{name}: {path} not built")
            continue
        img = images.setdefault(path, Image(path))
        for a in sc.get("aex", []):
            sym, off = a["rip"].split("+")
            if sym != a["symbol"] or sym not in img.symbols:
                errors.append(f"{name}: rip {a['rip']} not in symbol {a['symbol']}")
                continue
            value, size, typ = img.symbols[sym]
            rip = value + int(off, 16)
            insn = bytes.fromhex(a["insn"])
            if typ != "FUNC" or not value <= rip < value + size:
                errors.append(f"{name}: {a['rip']} outside function {sym} [{value:#x}, +{size:#x})")
            if not img.executable(rip):
                errors.append(f"{name}: {a['rip']} = {rip:#x} is not in an executable segment")
            got = img.read(rip, len(insn))
            if got != insn:
                errors.append(f"{name}: bytes at {a['rip']} are {got.hex(' ') if got else None}, want {a['insn']}")
            m = a.get("maddr")
            if isinstance(m, str) and m.startswith("base+"):
                x = int(m[5:], 16)
                where = a.get("maddr_in")
                if where in img.symbols:
                    v, sz, _ = img.symbols[where]
                    ok = v <= x < v + sz
                else:
                    ok = any(k == where and o <= x < o + s for o, s, k, _, _ in img.regions)
                if not ok:
                    errors.append(f"{name}: MADDR {m} is not in {where}")
            for key in ("vector", "exit_type", "valid", "errcd", "handler", "handled", "frame"):
                if key not in a:
                    errors.append(f"{name}: AEX without '{key}'")
    return errors


def main():
    if len(sys.argv) != 2:
        print("usage: check_samples.py BUILD_DIR", file=sys.stderr)
        return 2
    errors = check(sys.argv[1])
    for e in errors:
        print("FAIL " + e, file=sys.stderr)
    if errors:
        return 1
    print("check_samples: samples.json matches the built images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
