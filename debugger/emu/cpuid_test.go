package emu

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	encimage "github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// udCPUIDSite is the enclave offset of the CPUID in the ud sample's
// emulated_cpuid, from its symbols.
func udCPUIDSite(t *testing.T, im *encimage.Image) uint64 {
	t.Helper()
	syms, err := im.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == "emulated_cpuid" {
			for off := s.Offset; off+1 < s.Offset+s.Size; off++ {
				if p := im.Page(off); p != nil && p.Data[off%4096] == 0x0f && p.Data[(off+1)%4096] == 0xa2 {
					return off
				}
			}
		}
	}
	t.Fatal("no CPUID in emulated_cpuid")
	return 0
}

// The ud sample's enclave executes CPUID and recovers in its handler, which
// reads the two bytes at the faulting RIP and requires 0f a2: through the
// vDSO and through the host's own ENCLU, with CPUID faulting (no byte of
// the enclave rewritten) and with the rewriting fallback (the one site
// reported, the original bytes shown to EDBGRD and to the handler).
func TestUDSampleCPUID(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "ud.elf")
	im, err := encimage.Open(elf)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	site := udCPUIDSite(t, im)
	mr, err := im.MRENCLAVE()
	if err != nil {
		t.Fatal(err)
	}
	ranges, err := im.FunctionRanges()
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []CPUIDMethod{CPUIDFaulting, CPUIDRewrite} {
		for _, flags := range [][]string{nil, {"--no-vdso"}} {
			t.Run(fmt.Sprintf("%s%v", method, flags), func(t *testing.T) {
				argv := append([]string{filepath.Join(dir, "host")}, flags...)
				argv = append(argv, elf, elf+".sig", "0")
				var edbgrd, running, atEntry []byte
				var rewritten []Event
				var aexRIP, base uint64
				opts := Options{CPUID: method, FunctionRanges: func(m [32]byte) [][2]uint64 {
					if m == mr {
						return ranges
					}
					return nil
				}}
				r := runWith(t, argv, opts, func(em *Emulator, ev Event) {
					switch ev.Kind {
					case EvCPUIDRewritten:
						rewritten = append(rewritten, ev)
					case EvEENTER:
						if atEntry == nil {
							// What the enclave will execute at the site.
							e := em.procs[ev.Pid].enclaveAt(ev.Enclave)
							atEntry = append([]byte(nil), e.mem[site:site+2]...)
						}
					case EvAEX:
						base, aexRIP = ev.Enclave, ev.RIP
						edbgrd = make([]byte, 2)
						if _, err := em.ReadEnclave(ev.Pid, edbgrd, ev.RIP); err != nil {
							t.Error(err)
						}
						// The bytes the enclave executes and reads itself.
						e := em.procs[ev.Pid].enclaveAt(ev.RIP)
						running = append([]byte(nil), e.mem[ev.RIP-e.base():ev.RIP-e.base()+2]...)
					}
				})
				if r.out != "ecall 0 returned 0x5347584442470001\n" || r.status != (ExitStatus{}) {
					t.Errorf("host: %q, %+v", r.out, r.status)
				}
				if aexRIP != base+site {
					t.Errorf("#UD AEX at %#x, want the CPUID at base+%#x", aexRIP, site)
				}
				if string(edbgrd) != "\x0f\xa2" || string(running) != "\x0f\xa2" {
					t.Errorf("at the #UD: EDBGRD % x, enclave code % x; want 0f a2 for both", edbgrd, running)
				}
				switch method {
				case CPUIDFaulting:
					if len(rewritten) != 0 || string(atEntry) != "\x0f\xa2" {
						t.Errorf("CPUID faulting rewrote %d sites; the enclave runs % x at the site", len(rewritten), atEntry)
					}
				case CPUIDRewrite:
					if len(rewritten) != 1 || rewritten[0].RIP != base+site || string(atEntry) != "\x0f\x0b" {
						t.Errorf("rewritten sites %+v, want exactly base+%#x; the enclave runs % x there, want UD2", rewritten, site, atEntry)
					}
				}
			})
		}
	}
}

// Without an image whose symbols bound the rewriting, nothing is rewritten
// and the event says so.
func TestRewriteNeedsImage(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "clean.elf")
	var evs []Event
	r := runWith(t, []string{filepath.Join(dir, "host"), elf, elf + ".sig", "0", "1", "2"}, Options{CPUID: CPUIDRewrite},
		func(_ *Emulator, ev Event) {
			if ev.Kind == EvCPUIDRewritten {
				evs = append(evs, ev)
			}
		})
	if r.status != (ExitStatus{}) {
		t.Errorf("host: %q %+v", r.out, r.status)
	}
	if len(evs) != 1 || evs[0].RIP != 0 || evs[0].Reason != "no enclave image with function symbols matches this MRENCLAVE: CPUID runs natively inside it" {
		t.Errorf("events %+v", evs)
	}
}

// A fault at an ENCLU is that ENCLU's own only when the instruction raised
// it: #UD without SGX, #GP or #PF on its operands where ENCLU is real.
func TestENCLUTrap(t *testing.T) {
	const rip = 0x401000
	tests := []struct {
		name string
		sig  unix.Signal
		si   ptrace.Siginfo
		want bool
	}{
		{"#UD, no SGX", unix.SIGILL, ptrace.Siginfo{Code: ptrace.IllIllOpn}, true},
		{"#GP outside an enclave", unix.SIGSEGV, ptrace.Siginfo{Code: ptrace.SIKernel}, true},
		{"#PF on the TCS, unmapped", unix.SIGSEGV, ptrace.Siginfo{Code: ptrace.SegvMapErr, Addr: 0x7f0000000000}, true},
		{"#PF on the TCS, EPCM", unix.SIGSEGV, ptrace.Siginfo{Code: ptrace.SegvAccErr, Addr: 0x7f0000001000}, true},
		{"SIGBUS on the TCS", unix.SIGBUS, ptrace.Siginfo{Code: ptrace.BusAdrErr, Addr: 0x7f0000000000}, true},
		{"fetching the ENCLU itself", unix.SIGSEGV, ptrace.Siginfo{Code: ptrace.SegvAccErr, Addr: rip + 2}, false},
		{"SIGSEGV sent by kill", unix.SIGSEGV, ptrace.Siginfo{Code: 0}, false},
		{"SIGSEGV sent by tgkill", unix.SIGSEGV, ptrace.Siginfo{Code: ptrace.SITkill}, false},
		{"single-step stopped there", unix.SIGTRAP, ptrace.Siginfo{Code: ptrace.TrapTrace}, false},
		{"SIGFPE", unix.SIGFPE, ptrace.Siginfo{Code: ptrace.FpeIntDiv}, false},
	}
	for _, tc := range tests {
		if got := encluTrap(tc.sig, &tc.si, rip); got != tc.want {
			t.Errorf("%s: encluTrap = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseCPUOptions(t *testing.T) {
	sizes := []struct {
		in   string
		want uint64
		err  bool
	}{
		{"128M", 128 << 20, false}, {"128MiB", 128 << 20, false}, {"64g", 64 << 30, false}, {"0x8000000", 0x8000000, false},
		{"4096", 4096, false}, {"1T", 1 << 40, false}, {"4K", 4096, false},
		{"0", 0, true}, {"1000", 0, true}, {"", 0, true}, {"12Q", 0, true}, {"-1M", 0, true}, {"4096T", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, s := range sizes {
		got, err := ParseSize(s.in)
		if (err != nil) != s.err || got != s.want {
			t.Errorf("ParseSize(%q) = %#x, %v", s.in, got, err)
		}
	}
	for in, want := range map[string]CPUModel{"": CPUSGX2, "sgx2": CPUSGX2, "sgx1": CPUSGX1} {
		if got, err := ParseCPUModel(in); err != nil || got != want {
			t.Errorf("ParseCPUModel(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCPUModel("sgx3"); err == nil || err.Error() != `unknown CPU model "sgx3" (sgx1 or sgx2)` {
		t.Errorf("ParseCPUModel(sgx3): %v", err)
	}
	for in, want := range map[string]CPUIDMethod{"": CPUIDAuto, "auto": CPUIDAuto, "faulting": CPUIDFaulting, "rewrite": CPUIDRewrite} {
		if got, err := ParseCPUIDMethod(in); err != nil || got != want {
			t.Errorf("ParseCPUIDMethod(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCPUIDMethod("patch"); err == nil {
		t.Error("ParseCPUIDMethod(patch): no error")
	}
	if _, err := Start(Options{Path: "/bin/true", Args: []string{"true"}, CPU: "sgx9"}); err == nil {
		t.Error("Start with CPU sgx9: no error")
	}
}

// The emulated CPUID: leaf 7 gains SGX and SGX_LC, leaf 12H is the model's,
// the maximum basic leaf reaches 12H, everything else is this CPU's.
func TestCPUIDAnswer(t *testing.T) {
	em := &Emulator{sgx: sgxCPUID(CPUSGX2, 256<<20, 0x7)}
	a, b, c, d := cpuid(7, 0)
	if got, want := em.cpuidAnswer(7, 0), [4]uint32{a, b | 1<<2, c | 1<<30, d}; got != want {
		t.Errorf("leaf 7: %#x, want %#x", got, want)
	}
	if got := em.cpuidAnswer(0, 0); got[0] < 0x12 {
		t.Errorf("leaf 0: max basic leaf %#x", got[0])
	}
	want12 := [][4]uint32{{0x803, 0x1, 0, 0x241f}, {0x4b6, 0, 0x7, 0}, {0x80000001, 0, 0x10000001, 0}, {}, {}}
	for sub, want := range want12 {
		if got := em.cpuidAnswer(0x12, uint32(sub)); got != want {
			t.Errorf("leaf 12H subleaf %d: %#x, want %#x", sub, got, want)
		}
	}
	a, b, c, d = cpuid(1, 0)
	if got := em.cpuidAnswer(1, 0); got[0] != a || got[2] != c || got[3] != d || got[1]&0xffffff != b&0xffffff {
		t.Errorf("leaf 1: %#x, want this CPU's %#x %#x %#x %#x (APIC ID aside)", got, a, b, c, d)
	}
}

// Which ENCLU leaves exist follows the model (SDM ENCLU operation: an
// undefined leaf is #GP(0)); outside an enclave only EENTER and ERESUME
// are allowed (#GP(0)). The SGX2 leaves make their operand checks: the
// conformance enclave runs them with RBX = its TCS and RCX = the host's
// return address (EMODPE: RCX outside ELRANGE, #GP(0); EACCEPT: the SECINFO
// at RBX is on a TCS page, an EPCM #PF).
func TestENCLULeaves(t *testing.T) {
	tests := []struct {
		cpu      CPUModel
		scenario string
		leaf     int
		vector   sgx.Vector // the AEX's (inside) or the enclu-fault's (outside)
		reason   string     // enclu-fault's, outside
		line     func(aep uint64) string
		errcd    uint32 // the AEX's, inside
	}{
		{CPUSGX2, "enclu", 6, 13, "", func(uint64) string { return "signal 11 code 128 addr 0 at aep rax 3" }, 0},
		{CPUSGX2, "enclu", 5, 14, "", nil, 0x8005},
		{CPUSGX1, "enclu", 5, 13, "", func(uint64) string { return "signal 11 code 128 addr 0 at aep rax 3" }, 0},
		{CPUSGX2, "enclu", 9, 13, "", func(uint64) string { return "signal 11 code 128 addr 0 at aep rax 3" }, 0},
		{CPUSGX2, "enclu", 0x20, 13, "", func(uint64) string { return "signal 11 code 128 addr 0 at aep rax 3" }, 0},
		{CPUSGX2, "enclu-outside", 4, 13, "EEXIT outside an enclave", func(uint64) string { return "signal 11 code 128 addr 0 at other rax 4" }, 0},
		{CPUSGX2, "enclu-outside", 0, 13, "EREPORT outside an enclave", func(uint64) string { return "signal 11 code 128 addr 0 at other rax 0" }, 0},
		{CPUSGX1, "enclu-outside", 5, 13, "EACCEPT is not an ENCLU leaf of the sgx1 processor",
			func(uint64) string { return "signal 11 code 128 addr 0 at other rax 5" }, 0},
		{CPUSGX2, "enclu-outside", 9, 13, "EDECCSSA outside an enclave",
			func(uint64) string { return "signal 11 code 128 addr 0 at other rax 9" }, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%d", tc.cpu, tc.scenario, tc.leaf), func(t *testing.T) {
			r := runConform(t, conformEnclave{cpu: tc.cpu}, nil, nil, nil, tc.scenario, fmt.Sprint(tc.leaf))
			var aep uint64
			if tc.scenario == "enclu" {
				aexs := r.find(EvAEX)
				if len(aexs) != 1 || aexs[0].Vector != tc.vector || aexs[0].RIP != aexs[0].Enclave+conformSyms["at_enclu"] || aexs[0].ErrCd != tc.errcd {
					t.Fatalf("AEX events %+v, want one with vector %d, error code %#x at at_enclu", aexs, tc.vector, tc.errcd)
				}
				aep = aexs[0].AEP
				if tc.line == nil {
					tcs := aexs[0].Enclave + offTCS
					if aexs[0].MAddr != tcs {
						t.Errorf("MADDR %#x, want the TCS %#x", aexs[0].MAddr, tcs)
					}
					tc.line = func(uint64) string { return fmt.Sprintf("signal 11 code 2 addr %#x at aep rax 3", tcs) }
				}
			} else {
				fs := r.find(EvENCLUFault)
				if len(fs) != 1 || fs[0].Vector != tc.vector || fs[0].Reason != tc.reason {
					t.Fatalf("enclu-fault events %+v, want one: vector %d, %q", fs, tc.vector, tc.reason)
				}
			}
			if want := tc.line(aep) + "\n"; !strings.HasSuffix(r.out, want) {
				t.Errorf("host printed %q, want the last line %q", r.out, want)
			}
		})
	}
}
