package emu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// symbols reads an image's symbol offsets with binutils' nm, independently
// of sgxdbg's own ELF code.
func symbols(t *testing.T, elf string) map[string]uint64 {
	t.Helper()
	out, err := exec.Command("nm", elf).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", elf, err)
	}
	syms := map[string]uint64{}
	for _, line := range strings.Split(string(out), "\n") {
		var off uint64
		var typ, name string
		if n, _ := fmt.Sscanf(line, "%x %s %s", &off, &typ, &name); n == 3 {
			syms[name] = off
		}
	}
	return syms
}

func resolveSym(t *testing.T, syms map[string]uint64, expr string) uint64 {
	t.Helper()
	name, off, _ := strings.Cut(expr, "+")
	base, ok := syms[name]
	if !ok {
		t.Fatalf("no symbol %s", name)
	}
	n, err := strconv.ParseUint(off, 0, 64)
	if off != "" && err != nil {
		t.Fatalf("bad offset in %q", expr)
	}
	return base + n
}

// capturedAEX is one AEX with its SSA frame read through EDBGRD at the
// moment it happened, and the faulting instruction's bytes.
type capturedAEX struct {
	ev    Event
	frame *ssa.Frame
	insn  []byte
	tcs   int
}

func runSample(t *testing.T, dir string, sc fixtures.Scenario) (stdout, stderr string, st ExitStatus, aexs []capturedAEX) {
	t.Helper()
	elf := filepath.Join(dir, sc.Name+".elf")
	args := append([]string{filepath.Join(dir, "host")}, sc.HostFlags...)
	args = append(args, elf, elf+".sig", strconv.Itoa(sc.Ecall))
	args = append(args, sc.Args...)
	tmp := t.TempDir()
	outF, _ := os.Create(filepath.Join(tmp, "out"))
	errF, _ := os.Create(filepath.Join(tmp, "err"))
	defer outF.Close()
	defer errF.Close()
	var ssaGeo ssa.Geometry
	var tcsList []uint64
	var capErr error
	st, err := Run(Options{
		Path: args[0], Args: args, Files: []*os.File{os.Stdin, outF, errF},
		CPUSecret: testCPUSecret,
		OnStop: func(s *Stop) {
			ev := s.Event()
			if ev.Kind != EvAEX || capErr != nil {
				return
			}
			em := s.Emulator()
			for _, e := range em.Enclaves() {
				if e.Base == ev.Enclave {
					tcsList = e.TCS
					ssaGeo = ssa.Geometry{Base: e.Base, FrameSize: e.SSAFrameSize, MiscSelect: e.MiscSelect, XFRM: e.Attributes.XFRM}
				}
			}
			tcsRaw := make([]byte, sgx.TCSDebugReadable)
			if _, err := em.ReadEnclave(ev.Pid, tcsRaw, ev.TCS); err != nil {
				capErr = err
				return
			}
			var tcs sgx.TCS
			if capErr = tcs.UnmarshalBinary(tcsRaw); capErr != nil {
				return
			}
			g := ssaGeo
			g.OSSA = tcs.OSSA
			buf := make([]byte, g.FrameBytes())
			if _, err := em.ReadEnclave(ev.Pid, buf, g.FrameAddr(ev.SSA)); err != nil {
				capErr = err
				return
			}
			f, err := ssa.DecodeFrame(buf, g, ev.SSA)
			if err != nil {
				capErr = err
				return
			}
			c := capturedAEX{ev: ev, frame: f, tcs: sort.Search(len(tcsList), func(i int) bool { return tcsList[i] >= ev.TCS })}
			c.insn = make([]byte, 16)
			if n, err := em.ReadEnclave(ev.Pid, c.insn, f.GPR.RIP); err == nil {
				c.insn = c.insn[:n]
			}
			aexs = append(aexs, c)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if capErr != nil {
		t.Fatal(capErr)
	}
	o, _ := os.ReadFile(filepath.Join(tmp, "out"))
	e, _ := os.ReadFile(filepath.Join(tmp, "err"))
	return string(o), string(e), st, aexs
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func sameLines(got []string, want []string, unordered bool) bool {
	if len(got) != len(want) {
		return false
	}
	g, w := append([]string(nil), got...), append([]string(nil), want...)
	if unordered {
		sort.Strings(g)
		sort.Strings(w)
	}
	for i := range g {
		if g[i] != w[i] {
			return false
		}
	}
	return true
}

// TestSamples runs every sample scenario under the emulator and checks the
// host's output and status and every AEX's SSA frame against what the
// sample documents for real hardware.
// Each scenario runs twice: through the synthetic vDSO (exceptions reach
// the host through the vDSO's fixup, #BP and #DB as signals) and with the
// host's own ENCLU and signal handlers (--no-vdso).
func TestSamples(t *testing.T) {
	dir := fixtures.Samples(t)
	for _, mode := range []string{"vdso", "signals"} {
		for _, sc := range fixtures.Scenarios(t) {
			if mode == "signals" {
				sc.HostFlags = append([]string{"--no-vdso"}, sc.HostFlags...)
			}
			t.Run(fmt.Sprintf("%s/%s/%d", mode, sc.Name, sc.Ecall), func(t *testing.T) { checkSample(t, dir, mode, sc) })
		}
	}
}

func checkSample(t *testing.T, dir, mode string, sc fixtures.Scenario) {
	stdout, stderr, st, aexs := runSample(t, dir, sc)
	if !sameLines(lines(stdout), sc.Stdout, sc.Unordered) {
		t.Errorf("stdout %q, want %q", lines(stdout), sc.Stdout)
	}
	if !sameLines(lines(stderr), sc.Stderr, sc.Unordered) {
		t.Errorf("stderr %q, want %q", lines(stderr), sc.Stderr)
	}
	if st.ShellCode() != sc.Exit {
		t.Errorf("exit status %d, want %d", st.ShellCode(), sc.Exit)
	}
	if len(aexs) != len(sc.AEX) {
		t.Fatalf("%d AEXs, want %d", len(aexs), len(sc.AEX))
	}
	syms := symbols(t, filepath.Join(dir, sc.Name+".elf"))
	for i, want := range sc.AEX {
		got := aexs[i]
		if sc.Unordered {
			for _, c := range aexs {
				if c.tcs == want.TCS {
					got = c
				}
			}
		}
		base, g := got.ev.Enclave, got.frame.GPR
		if got.tcs != want.TCS || got.ev.SSA != want.Frame {
			t.Errorf("AEX %d on TCS %d frame %d, want TCS %d frame %d", i, got.tcs, got.ev.SSA, want.TCS, want.Frame)
		}
		wantExit := ssa.ExitInfo(0)
		if want.Valid {
			wantExit = ssa.MakeExitInfo(sgx.Vector(want.Vector), sgx.ExitType(want.ExitType))
		}
		if g.ExitInfo != wantExit {
			t.Errorf("AEX %d EXITINFO %v, want %v", i, g.ExitInfo, wantExit)
		}
		wantSig := map[bool]string{true: "vdso-fixup", false: "SIG"}[mode == "vdso" && want.Vector != int(sgx.VectorBP) && want.Vector != int(sgx.VectorDB)]
		if !strings.HasPrefix(got.ev.Delivery.String(), wantSig) {
			t.Errorf("AEX %d reached the host as %q, want %s… in %s mode", i, got.ev.Delivery.String(), wantSig, mode)
		}
		if rip := base + resolveSym(t, syms, want.RIP); g.RIP != rip {
			t.Errorf("AEX %d SSA.RIP %#x, want %s = %#x", i, g.RIP, want.RIP, rip)
		}
		insn := strings.ReplaceAll(want.Insn, " ", "")
		if gotInsn := fmt.Sprintf("%x", got.insn); !strings.HasPrefix(gotInsn, insn) {
			t.Errorf("AEX %d instruction bytes %s, want %s", i, gotInsn, insn)
		}
		if want.MAddr == nil {
			continue
		}
		var maddr uint64
		switch m := *want.MAddr; {
		case strings.HasPrefix(m, "base+"):
			n, _ := strconv.ParseUint(strings.TrimPrefix(m, "base+"), 0, 64)
			maddr = base + n
		case strings.HasPrefix(m, "outside:"):
			maddr, _ = strconv.ParseUint(strings.TrimPrefix(m, "outside:"), 0, 64)
		default:
			maddr, _ = strconv.ParseUint(m, 0, 64)
		}
		errcd, _ := strconv.ParseUint(*want.ErrCd, 0, 32)
		x := got.frame.ExInfo
		if x == nil || x.MAddr != maddr || uint64(x.ErrCd) != errcd {
			t.Errorf("AEX %d EXINFO %+v, want MADDR %#x ERRCD %#x", i, x, maddr, errcd)
		}
	}
}
