#!/usr/bin/env python3
"""run_native.py BUILD_DIR - runs every scenario of samples.json through
host_native (the real host with tests/native_sgx.c standing in for the SGX
driver and CPU, tests/fake_vdso.S for the vDSO), once through the vDSO and
once with --no-vdso, and compares the host's stdout, stderr and exit status, and
the AEXs the stand-in logged (TCS, SSA frame, vector, exit type, MADDR,
ERRCD, RIP), with what samples.json expects on hardware. Also fails when the
stand-in saw a register the runtime should have scrubbed at EEXIT, and checks
"enclave lost" (exit 4) when the enclave is torn down before EENTER or at an
AEX.

Scenarios the stand-in cannot reproduce are skipped with a reason.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_samples import Image  # noqa: E402

# (name, ecall) -> why the stand-in cannot show the hardware outcome.
SKIP = {
    ("ud", 0): "CPUID executes natively on this CPU: no #UD to emulate",
}
# The stand-in emulates EENTER, ERESUME and EEXIT only: the key samples'
# EREPORT and EGETKEY run under sgxdbg's emulator (debugger/emu) instead.
NO_KEYS = "the stand-in has no EREPORT/EGETKEY and loads one enclave"
SKIP_NAMES = {"keys": NO_KEYS, "verifier": NO_KEYS}

# The enclave torn down (SGXDBG_NATIVE_TEARDOWN) before the first EENTER or at
# the first AEX: the host must report "enclave lost" and exit 4.
LOST = [("clean", 0, ["1"], "enter"), ("pf_untrusted", 0, [], "aex"), ("int3", 0, [], "aex"),
        ("de", 0, [], "aex")]


def run_lost(build, name, ecall, args, when, mode):
    cmd = [os.path.join(build, "host_native")] + mode + [
        os.path.join(build, name + ".elf"), os.path.join(build, "zero.sig"), str(ecall)] + args
    env = dict(os.environ, SGXDBG_NATIVE_TEARDOWN=when)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if p.returncode != 4 or p.stderr.splitlines() != ["enclave lost"]:
        return [f"exit {p.returncode}, stderr {p.stderr.splitlines()}, want 4, ['enclave lost']"]
    return []


def expected_aex(a, img):
    sym, off = a["rip"].split("+")
    rip = img.symbols[sym][0] + int(off, 16)
    m = a.get("maddr")
    if m is None:
        maddr = 0
    elif m.startswith("base+"):
        maddr = int(m[5:], 16)
    elif m.startswith("outside:"):
        maddr = int(m[8:], 16)
    else:
        maddr = int(m, 16)
    errcd = int(a["errcd"], 16) if a.get("errcd") else 0
    return (f"aex tcs={a['tcs']} frame={a['frame']} vector={a['vector']} type={a['exit_type']} "
            f"maddr={maddr:#x} errcd={errcd:#x} rip={rip:#x}").replace("=0x0 ", "=0 ")


def run(build, sc, img, log, mode):
    elf = os.path.join(build, sc["name"] + ".elf")
    cmd = [os.path.join(build, "host_native")] + mode + sc["host_flags"] + [
        elf, os.path.join(build, "zero.sig"), str(sc["ecall"])] + sc["args"]
    if os.path.exists(log):
        os.unlink(log)
    env = dict(os.environ, SGXDBG_NATIVE_LOG=log)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    errors = []
    out, err = p.stdout.splitlines(), p.stderr.splitlines()
    want_out = sc["stdout"]
    if sc.get("unordered"):
        out, want_out = sorted(out), sorted(want_out)
    if out != want_out:
        errors.append(f"stdout {out}, want {want_out}")
    if err != sc["stderr"]:
        errors.append(f"stderr {err}, want {sc['stderr']}")
    if p.returncode != sc["exit"]:
        errors.append(f"exit {p.returncode}, want {sc['exit']}")
    got = open(log).read().splitlines() if os.path.exists(log) else []
    if any("leak" in line for line in got):
        errors.append("registers not scrubbed at EEXIT")
    got = sorted(line.replace("=0x0 ", "=0 ") for line in got if line.startswith("aex"))
    want = sorted(expected_aex(a, img) for a in sc["aex"])
    if got != want:
        errors.append(f"AEX log {got}, want {want}")
    return errors


def main():
    if len(sys.argv) != 2:
        print("usage: run_native.py BUILD_DIR", file=sys.stderr)
        return 2
    build = sys.argv[1]
    spec = json.load(open(os.path.join(HERE, "..", "samples.json")))
    with open(os.path.join(build, "zero.sig"), "wb") as f:
        f.write(bytes(1808))  # the stand-in does no EINIT
    failures = ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "aex.log")
        for sc in spec["scenarios"]:
            key = (sc["name"], sc["ecall"])
            label = f"{sc['name']} ecall {sc['ecall']}"
            if key in SKIP or sc["name"] in SKIP_NAMES:
                print(f"SKIP {label}: {SKIP.get(key) or SKIP_NAMES[sc['name']]}")
                continue
            img = Image(os.path.join(build, sc["name"] + ".elf"))
            for mode in ([], ["--no-vdso"]):
                ran += 1
                for e in run(build, sc, img, log, mode):
                    print(f"FAIL {label} {' '.join(mode) or '(vDSO)'}: {e}", file=sys.stderr)
                    failures += 1
        for name, ecall, args, when in LOST:
            for mode in ([], ["--no-vdso"]):
                ran += 1
                for e in run_lost(build, name, ecall, args, when, mode):
                    print(f"FAIL {name} ecall {ecall} torn down at {when} {' '.join(mode)}: {e}",
                          file=sys.stderr)
                    failures += 1
    if failures:
        return 1
    print(f"run_native: {ran} runs (each scenario through the vDSO and through the host's own ENCLU, "
          "and enclave-lost cases) behave as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
