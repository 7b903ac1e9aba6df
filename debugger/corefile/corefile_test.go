package corefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/coredump"
	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// Two TCS, each with one SSA frame in use: TCS 0 stopped at a #PF (thread
// 11), TCS 1 left by an earlier #BP of thread 12.
const (
	base = 0x7f0000000000
	size = 0x10000
	tcs0 = base
	tcs1 = base + 0x1000
	ssa0 = base + 0x2000
	ssa1 = base + 0x3000
	code = base + 0x4000
	rip0 = code + 0x10
	rip1 = code + 0x20
)

// source is a stopped host over a byte slice.
type source struct {
	mem   []byte
	ev    target.Event
	encl  target.EnclaveInfo
	regs  target.Regs
	steps []target.Event
}

func frame(rip uint64, v sgx.Vector, t sgx.ExitType) []byte {
	f := make([]byte, sgx.PageSize)
	g := ssa.GPRSGX{RIP: rip, RSP: code, RAX: rip * 2, ExitInfo: ssa.MakeExitInfo(v, t)}
	b, _ := g.MarshalBinary()
	copy(f[sgx.PageSize-ssa.GPRSGXSize:], b)
	binary.LittleEndian.PutUint16(f[0:], 0x37f) // FCW
	binary.LittleEndian.PutUint32(f[24:], 0x1f80)
	binary.LittleEndian.PutUint64(f[512:], 3) // XSTATE_BV: x87, SSE
	return f
}

func newSource() *source {
	s := &source{mem: make([]byte, size)}
	for i, t := range []sgx.TCS{{OSSA: ssa0 - base, CSSA: 1, NSSA: 1}, {OSSA: ssa1 - base, CSSA: 1, NSSA: 1}} {
		b, _ := t.MarshalBinary()
		copy(s.mem[i*sgx.PageSize:], b)
	}
	copy(s.mem[ssa0-base:], frame(rip0, sgx.VectorPF, sgx.ExitHardware))
	copy(s.mem[ssa1-base:], frame(rip1, sgx.VectorBP, sgx.ExitSoftware))
	copy(s.mem[code-base:], "enclave code")
	rw := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
	s.encl = target.EnclaveInfo{Pid: 10, Base: base, Size: size, SSAFrameSize: 1,
		Attributes: sgx.Attributes{Flags: sgx.AttrInit | sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 3}, Initialized: true,
		TCS: []uint64{tcs0, tcs1}, Pages: []target.Page{
			{Offset: 0, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0)}, {Offset: 0x1000, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0)},
			{Offset: 0x2000, Secinfo: rw}, {Offset: 0x3000, Secinfo: rw},
			{Offset: 0x4000, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoX)}}}
	bp := target.Event{Kind: target.EvAEX, Tid: 12, Enclave: base, TCS: tcs1, CSSA: 1, Vector: 3, ExitType: sgx.ExitSoftware, Valid: true, RIP: rip1}
	s.ev = target.Event{Kind: target.EvAEX, Tid: 11, Enclave: base, TCS: tcs0, CSSA: 1, Vector: 14, ExitType: sgx.ExitHardware, Valid: true, RIP: rip0}
	s.steps = []target.Event{bp, s.ev}
	s.regs = target.Regs{Rax: 3, Rbx: tcs0, Rip: 0x1000, Rcx: 0x1000}
	return s
}

func (s *source) Event() target.Event            { return s.ev }
func (s *source) Pending() target.Delivery       { return target.Delivery{Signal: unix.SIGSEGV} }
func (s *source) Regs() (target.Regs, error)     { return s.regs, nil }
func (s *source) Enclaves() []target.EnclaveInfo { return []target.EnclaveInfo{s.encl} }
func (s *source) Threads() []target.ThreadInfo {
	return []target.ThreadInfo{{Pid: 10, Tid: 11}, {Pid: 10, Tid: 12}}
}
func (s *source) ReadEnclave(buf []byte, addr uint64) (int, error) {
	if addr < base || addr+uint64(len(buf)) > base+size {
		return 0, fmt.Errorf("%#x outside", addr)
	}
	return copy(buf, s.mem[addr-base:]), nil
}

func openCore(t *testing.T) *coredump.Core {
	t.Helper()
	src := newSource()
	var b bytes.Buffer
	if _, err := coredump.Write(&b, src, coredump.Options{Timeline: src.steps}); err != nil {
		t.Fatal(err)
	}
	c, err := coredump.New(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStop: the core as a target.Stop — EDBGRD's rules for reads, the
// host's registers for the stopped thread only, every action refused.
func TestStop(t *testing.T) {
	c := openCore(t)
	st := NewStop(c)
	src := newSource()
	buf := make([]byte, 0x20)
	if n, err := st.ReadEnclave(buf, code); n != 0x20 || err != nil || !bytes.Equal(buf, src.mem[code-base:code-base+0x20]) {
		t.Errorf("read code: %d %v", n, err)
	}
	if n, err := st.ReadEnclave(buf[:8], tcs0+64); n != 8 || err != nil || !bytes.Equal(buf[:8], src.mem[64:72]) {
		t.Errorf("read TCS 64..72: %d %v", n, err)
	}
	for _, tc := range []struct {
		addr uint64
		n    int
		got  int
		err  string
	}{
		{tcs0 + 64, 16, 8, "EDBGRD at 0x7f0000000048: EDBGRD may read only the first 72 bytes of a TCS"},
		{base + size, 8, 0, "0x7f0000010000: address is not in an enclave"},
		{code + sgx.PageSize - 4, 8, 4, "EDBGRD at 0x7f0000005000: no EPC page at this address"},
	} {
		n, err := st.ReadEnclave(make([]byte, tc.n), tc.addr)
		if n != tc.got || err == nil || err.Error() != tc.err {
			t.Errorf("read %d at %#x: %d, %v; want %d, %q", tc.n, tc.addr, n, err, tc.got, tc.err)
		}
	}
	if r, err := st.Regs(); err != nil || r != src.regs || st.Pending() != (target.Delivery{Signal: unix.SIGSEGV}) || st.Event() != src.ev {
		t.Errorf("regs %+v %v pending %v event %+v", r, err, st.Pending(), st.Event())
	}
	if _, err := st.WriteEnclave([]byte{1}, code); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write: %v", err)
	}
	if _, err := st.ReadHost(make([]byte, 8), 0x1000); !errors.Is(err, ErrNoHostMemory) {
		t.Errorf("read host: %v", err)
	}
	if err := st.EnterHandler(0, 0, 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("handler: %v", err)
	}
	for name, f := range map[string]func() error{"continue": st.Continue, "eresume": func() error { return st.ERESUME(false) }, "teardown": func() error { _, err := st.Teardown(); return err }} {
		if err := f(); !errors.Is(err, ErrReadOnly) || err.Error() != "core file: the host is not running" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st.Resumed() {
		t.Fatal("a core's stop resumed")
	}
	// As a process: the stop once, then (after Kill, or a second call) the end.
	p := Open(c, st)
	if tr, err := p.ContinueOnce(); err != nil || tr.Stop != st || tr.Exited || len(tr.Events) != len(c.Events) {
		t.Errorf("first ContinueOnce: %+v, %v", tr, err)
	}
	p.Kill()
	if tr, err := p.ContinueOnce(); err != nil || !tr.Exited || tr.Stop != nil || tr.Status.ShellCode() != 0 {
		t.Errorf("ContinueOnce after Kill: %+v, %v", tr, err)
	}
	if err := p.Detach(); !errors.Is(err, target.ErrReadOnly) {
		t.Errorf("detach: %v", err)
	}
}

// TestSessionAt runs the session's views on the stop and on the other
// TCS (At): its last AEX, its SSA frame, and no host registers.
func TestSessionAt(t *testing.T) {
	c := openCore(t)
	st := NewStop(c)
	other, err := st.At(tcs1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.At(code); err == nil || err.Error() != "core file: no AEX of TCS 0x7f0000004000 in the timeline" {
		t.Errorf("At(code): %v", err)
	}
	all, _ := debugger.ParsePolicy([]string{"all"})
	for _, tc := range []struct {
		st     *Stop
		rip    uint64
		vector string
		regs   string
	}{
		{st, rip0, "#PF", ""},
		{other, rip1, "#BP", "core file: no host registers for this thread"},
	} {
		s := debugger.New(Open(c, tc.st), debugger.Options{Policy: all})
		if w, err := s.Wait(); err != nil || w.Exited || w.Event != tc.st.Event() {
			t.Fatalf("wait: %+v %v", w, err)
		}
		r, err := s.Exec("ssa")
		if err != nil {
			t.Fatal(err)
		}
		f := r.(*debugger.SSAResult).Frames
		if len(f) != 1 || uint64(f[0].RIP) != tc.rip || f[0].VectorName != tc.vector {
			t.Errorf("ssa of TCS %#x: %+v", tc.st.Event().TCS, f)
		}
		_, err = s.Exec("regs")
		if (err == nil) != (tc.regs == "") || err != nil && err.Error() != tc.regs {
			t.Errorf("regs: %v, want %q", err, tc.regs)
		}
		if r, err := s.Exec("events"); err != nil || len(r.(*debugger.EventsResult).Events) != 2 {
			t.Errorf("events: %v %v", r, err)
		}
		if _, err := s.Exec("eresume"); err == nil || !strings.HasSuffix(err.Error(), ErrReadOnly.Error()) {
			t.Errorf("eresume: %v", err)
		}
		if _, err := s.Exec("quit"); !errors.Is(err, debugger.ErrQuit) {
			t.Errorf("quit: %v", err)
		}
		if w, err := s.Wait(); err != nil || !w.Exited || w.Status != 0 {
			t.Errorf("after quit: %+v %v", w, err)
		}
		s.Close()
	}
}
