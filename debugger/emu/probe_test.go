package emu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	encimage "github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// buildProbe compiles testdata/sgxprobe.c and writes the page list of the
// ud sample it loads. It returns the probe's argv.
func buildProbe(t *testing.T) (argv []string, im *encimage.Image) {
	t.Helper()
	dir := fixtures.Samples(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "sgxprobe")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-Werror", "-o", bin, "testdata/sgxprobe.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc sgxprobe.c: %v\n%s", err, out)
	}
	elf := filepath.Join(dir, "ud.elf")
	im, err := encimage.Open(elf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	var b bytes.Buffer
	le := binary.LittleEndian
	put := func(v any) { _ = binary.Write(&b, le, v) }
	put(im.Size)
	put(im.SSAFrameSize)
	put(uint32(im.MiscSelect))
	put(uint64(im.Attributes.Flags))
	put(im.Attributes.XFRM)
	put(uint64(len(im.Pages)))
	for _, p := range im.Pages {
		measured := uint64(0)
		if p.Measured {
			measured = 1
		}
		put(p.Offset)
		put(uint64(p.Secinfo))
		put(measured)
		b.Write(p.Data)
	}
	pages := filepath.Join(tmp, "pages")
	if err := os.WriteFile(pages, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{bin, pages, elf + ".sig"}, im
}

// runWith runs argv under the emulator with opts' CPU settings.
func runWith(t *testing.T, argv []string, opts Options, onEvent func(*Emulator, Event)) hostRun {
	t.Helper()
	outF, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer outF.Close()
	var r hostRun
	tr := ptrace.NewTracer()
	defer tr.Close()
	err = tr.Do(func() error {
		var em *Emulator
		opts.Path, opts.Args, opts.Files = argv[0], argv, []*os.File{os.Stdin, outF, outF}
		if onEvent != nil {
			opts.OnEvent = func(ev Event) { onEvent(em, ev) }
		}
		if em, err = Start(opts); err != nil {
			return err
		}
		r.status, err = em.Wait()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(outF.Name())
	if err != nil {
		t.Fatal(err)
	}
	r.out = string(out)
	return r
}

// mapsLines is what the probe prints for its enclave mappings: one line
// per run of pages with the same protection (TCS pages RW), offsets from
// the base, named /dev/sgx_enclave with the node's device and inode.
func mapsLines(im *encimage.Image) []string {
	type run struct {
		start, end uint64
		prot       int
	}
	var runs []run
	for _, p := range im.Pages {
		prot := maxProt(p.Secinfo)
		if n := len(runs); n > 0 && runs[n-1].end == p.Offset && runs[n-1].prot == prot {
			runs[n-1].end += sgx.PageSize
			continue
		}
		runs = append(runs, run{p.Offset, p.Offset + sgx.PageSize, prot})
	}
	var out []string
	for _, r := range runs {
		out = append(out, fmt.Sprintf("maps: +%s-+%s %ss 00000000 devtmpfs 1 node 1 /dev/sgx_enclave", cHex(r.start), cHex(r.end), protString(r.prot)))
	}
	return out
}

// cHex formats v as C's printf %#x does (0 without a prefix).
func cHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", v)
}

// The probe host sees an SGX processor and the driver's device nodes as a
// runtime's loader checks them, on both models.
func TestProbeHost(t *testing.T) {
	argv, im := buildProbe(t)
	xcr0 := probeHostXSave().xcr0
	node := func(what string, minor int) string {
		return fmt.Sprintf("%s: chr 1 rdev 10:%d mode 0666 uid 0 gid 0 size 0 nlink 1 devtmpfs 1", what, minor)
	}
	for _, tc := range []struct {
		model       CPUModel
		epc         uint64
		leaf0, sub1 string
		epcLine     string
		remove      string
		shell       bool // started by a shell that forks and execs it
	}{
		{CPUSGX2, 0, "cpuid 12.0: 0x803 0x1 0 0x241f", "cpuid 12.1: 0x4b6 0 " + cHex(uint64(uint32(xcr0))) + " " + cHex(xcr0>>32),
			"cpuid 12.2: 0x80000001 0 0x8000001 0", "EPERM", false},
		{CPUSGX1, 6 << 30, "cpuid 12.0: 0x1 0x1 0 0x241f", "cpuid 12.1: 0x36 0 " + cHex(uint64(uint32(xcr0))) + " " + cHex(xcr0>>32),
			"cpuid 12.2: 0x80000001 0 0x80000001 0x1", "ENODEV", false},
		// CPUID faulting is cleared by execve and set again by the emulator.
		{CPUSGX2, 0, "cpuid 12.0: 0x803 0x1 0 0x241f", "cpuid 12.1: 0x4b6 0 " + cHex(uint64(uint32(xcr0))) + " " + cHex(xcr0>>32),
			"cpuid 12.2: 0x80000001 0 0x8000001 0", "EPERM", true},
	} {
		name := string(tc.model)
		run := argv
		if tc.shell {
			name += "-via-shell"
			run = append([]string{"/bin/sh", "-c", `"$0" "$@"; exit $?`}, argv...)
		}
		t.Run(name, func(t *testing.T) {
			var rewritten []Event
			r := runWith(t, run, Options{CPU: tc.model, EPCSize: tc.epc}, func(_ *Emulator, ev Event) {
				if ev.Kind == EvCPUIDRewritten {
					rewritten = append(rewritten, ev)
				}
			})
			epc := uint64(DefaultEPCSize)
			if tc.epc != 0 {
				epc = tc.epc
			}
			want := []string{
				"cpuid 0: max leaf >= 0x12 1",
				"cpuid 7: sgx 1 sgx_lc 1",
				tc.leaf0,
				tc.sub1,
				tc.epcLine,
				"cpuid 12.3: 0 0 0 0",
				fmt.Sprintf("epc section: type 1 base 0x80000000 size %#x", epc),
				"arch_prctl get cpuid: 1",
				"arch_prctl set cpuid 0: 0",
				"arch_prctl get cpuid: 0",
				"cpuid while faulting: SIGSEGV si_code 128", // SI_KERNEL
				"arch_prctl set cpuid 1: 0",
				"arch_prctl get cpuid: 1",
				"cpuid again: sgx 1, SIGSEGV si_code -1",
				node("stat /dev/sgx_enclave", 125),
				node("lstat /dev/sgx_provision", 124),
				node("fstatat /dev/../dev/sgx_enclave", 125),
				node("stat sgx_enclave in /dev", 125),
				"stat /dev/sgx_other: ENOENT",
				"statx /dev/sgx_enclave: chr 1 rdev 10:125 mode 0666 uid 0 type in mask 1",
				"access /dev/sgx_enclave rw: 0",
				"access /dev/sgx_enclave x: EACCES",
				"faccessat /dev/sgx_provision rw: 0",
				node("fstat enclave fd", 125),
				node("fstat provision fd", 124),
				node("fstat system call, enclave fd", 125),
				"statx provision fd: 0 chr 1 rdev 10:124",
				"mmap provision fd: ENODEV",
				"create with PROVISIONKEY: 0",
				"add: 0",
				"provision with the enclave fd: EINVAL",
				"init without provision: EACCES",
				"create with PROVISIONKEY: 0",
				"provision: 0",
				"add: 0",
				// Past the driver's check, EINIT compares ATTRIBUTES with the
				// SIGSTRUCT's under its mask: SGX_INVALID_ATTRIBUTE.
				"init with provision: EPERM",
				"create: 0",
				"add: 0",
				"init: 0",
				"remove pages: " + tc.remove,
			}
			want = append(want, mapsLines(im)...)
			want = append(want, mapsLines(im)...) // /proc/PID/task/TID/maps
			want = append(want,
				"syscall clock_gettime: EPERM",
				"vdso clock_gettime: 0",
				"vdso gettimeofday: 0",
				"vdso time: 0",
				"vdso getcpu: 0",
			)
			if got := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				for i := range max(len(got), len(want)) {
					g, w := "", ""
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					if g != w {
						t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
					}
				}
			}
			if r.status != (ExitStatus{}) {
				t.Errorf("status %+v", r.status)
			}
			if len(rewritten) != 0 {
				t.Errorf("with CPUID faulting, %d cpuid-rewritten events", len(rewritten))
			}
		})
	}
}
