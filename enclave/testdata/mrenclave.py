#!/usr/bin/env python3
"""Compute the MRENCLAVE of an sgxdbg enclave image, independently of Go.

Usage: mrenclave.py IMAGE.elf...   prints "<64 hex digits>  IMAGE.elf" per image.

Written from the image convention (enclaves/debug/README.md, "Image
convention") and the measurement records of SGX.md section 1, not from the
Go package: it parses the ELF file with struct, lays out the pages and hashes
the ECREATE, EADD and EEXTEND records with hashlib. It assumes a valid image
(the Go side checks validity); it exits non-zero if it cannot find what it
needs.
"""

import hashlib
import struct
import sys

PAGE = 4096
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
NT_ENCLAVE, NT_REGIONS = 1, 2
KIND_TCS = 1
FLAG_UNMEASURED = 1
SECINFO_TCS = 0x100          # PAGE_TYPE 1 in bits 15:8, no R/W/X
SECINFO_REG = 0x200          # PAGE_TYPE 2


def program_headers(elf):
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        sys.exit("not a little-endian ELF64 file")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        yield struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)


def sgxdbg_notes(elf, phdrs):
    """Yield (type, descriptor bytes) of every SGXDBG note in PT_NOTE segments."""
    for p_type, _, off, _, _, filesz, _, align in phdrs:
        if p_type != PT_NOTE:
            continue
        a = 8 if align == 8 else 4
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz]
            desc = pos + 12 + (namesz + a - 1) // a * a
            if name == b"SGXDBG\x00":
                yield ntype, elf[desc:desc + descsz]
            pos = desc + (descsz + a - 1) // a * a


def mrenclave(path):
    with open(path, "rb") as f:
        elf = f.read()
    phdrs = list(program_headers(elf))

    enclave, regions = None, []
    for ntype, desc in sgxdbg_notes(elf, phdrs):
        if ntype == NT_ENCLAVE:
            enclave = desc
        elif ntype == NT_REGIONS:
            for r in range(0, len(desc), 32):
                regions.append(struct.unpack_from("<QQIIII", desc, r))
    if enclave is None or len(enclave) != 64:
        sys.exit("%s: no 64-byte NT_SGXDBG_ENCLAVE note" % path)
    size, ssaframesize = struct.unpack_from("<QI", enclave, 0)

    # Every page of every PT_LOAD: file bytes, then zeros; SECINFO from p_flags.
    pages = {}
    for p_type, flags, off, vaddr, _, filesz, memsz, _ in phdrs:
        if p_type != PT_LOAD:
            continue
        data = elf[off:off + filesz]
        perm = (1 if flags & PF_R else 0) | (2 if flags & PF_W else 0) | (4 if flags & PF_X else 0)
        npages = (memsz + PAGE - 1) // PAGE
        for i in range(npages):
            chunk = data[i * PAGE:(i + 1) * PAGE]
            pages[vaddr + i * PAGE] = [SECINFO_REG | perm, True, chunk + bytes(PAGE - len(chunk))]

    for offset, rsize, kind, rflags, _, _ in regions:
        for page in range(offset, offset + rsize, PAGE):
            if page not in pages:
                continue  # GUARD regions cover holes
            if kind == KIND_TCS:
                pages[page][0] = SECINFO_TCS
            if rflags & FLAG_UNMEASURED:
                pages[page][1] = False

    if size == 0:
        end = max(pages) + PAGE
        size = 2 * PAGE
        while size < end:
            size *= 2

    h = hashlib.sha256()
    # ECREATE: "ECREATE\0", SSAFRAMESIZE u32 @8, SIZE u64 @12, zeros to 64.
    h.update(struct.pack("<8sIQ44x", b"ECREATE\x00", ssaframesize, size))
    for offset in sorted(pages):
        secinfo, measured, data = pages[offset]
        # EADD: "EADD\0\0\0\0", offset u64 @8, SECINFO bytes 0..47 @16.
        h.update(struct.pack("<8sQQ40x", b"EADD\x00\x00\x00\x00", offset, secinfo))
        if measured:
            for c in range(0, PAGE, 256):
                # EEXTEND: "EEXTEND\0", chunk offset u64 @8, zeros to 64, 256 data bytes.
                h.update(struct.pack("<8sQ48x", b"EEXTEND\x00", offset + c))
                h.update(data[c:c + 256])
    return h.hexdigest()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        print("%s  %s" % (mrenclave(path), path))


if __name__ == "__main__":
    main()
