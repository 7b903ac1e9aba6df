package coredump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// fakeSource is a stopped host with a debug enclave (two TCS, one with an
// SSA frame in use after a #PF) and a non-debug enclave. Its ReadEnclave
// applies EDBGRD's rules and records the largest read.
type fakeSource struct {
	ev       target.Event
	sig      unix.Signal
	regs     target.Regs
	regsErr  error
	encls    []target.EnclaveInfo
	mem      map[uint64][]byte // by enclave base
	threads  []target.ThreadInfo
	maxRead  int
	failAt   uint64 // a read touching this address fails (0: none)
	timeline []target.Event
}

// The debug enclave's layout.
const (
	fakeBase    = 0x7f0000000000
	fakeSize    = 0x20000
	fakeTCS0    = fakeBase + 0x0000
	fakeCode    = fakeBase + 0x1000
	fakeData    = fakeBase + 0x2000 // 2 RW pages
	fakeSSA0    = fakeBase + 0x4000 // TCS 0's 2 SSA frames
	fakePending = fakeBase + 0x6000
	fakeRO      = fakeBase + 0x7000
	fakeTCS1    = fakeBase + 0x8000
	fakeSSA1    = fakeBase + 0x9000
	fakeNDBase  = 0x7f0000100000 // the non-debug enclave
	fakeRIP     = fakeCode + 4
	fakeEntry   = 0x1000
)

func reg(perm sgx.SecinfoFlags) sgx.SecinfoFlags { return sgx.MakeSecinfoFlags(sgx.PageTypeREG, perm) }

var tcsFlags = sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0)

// fakeFrame is TCS 0's frame 0: the GPRSGX of a #PF at fakeRIP with
// EXINFO, and an FXSAVE image with FCW 0x37f and MXCSR 0x1f80.
func fakeFrame() []byte {
	f := make([]byte, sgx.PageSize)
	binary.LittleEndian.PutUint16(f[0:], 0x37f)
	binary.LittleEndian.PutUint32(f[24:], 0x1f80)
	g := ssa.GPRSGX{RAX: 0x88, RCX: 0x11, RDX: 0x22, RBX: 0x33, RSP: fakeData + 0x1ff0, RBP: fakeData + 0x1ff8,
		RSI: 0x44, RDI: 0x10000, R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15,
		RFLAGS: 0x10246, RIP: fakeRIP, URSP: 0x7ffd0000, URBP: 0x7ffd0010,
		ExitInfo: ssa.MakeExitInfo(sgx.VectorPF, sgx.ExitHardware), FSBase: fakeData, GSBase: fakeData + 8}
	b, _ := g.MarshalBinary()
	copy(f[sgx.PageSize-ssa.GPRSGXSize:], b)
	x := ssa.ExInfo{MAddr: 0x10000, ErrCd: 4}
	xb, _ := x.MarshalBinary()
	copy(f[sgx.PageSize-ssa.GPRSGXSize-ssa.ExInfoSize:], xb)
	return f
}

func newFakeSource() *fakeSource {
	s := &fakeSource{mem: map[uint64][]byte{}, sig: unix.SIGSEGV}
	mem := make([]byte, fakeSize)
	for i := range mem {
		mem[i] = byte(i*7 + i>>12)
	}
	put := func(addr uint64, b []byte) { copy(mem[addr-fakeBase:], b) }
	t0 := sgx.TCS{State: 0, OSSA: fakeSSA0 - fakeBase, CSSA: 1, NSSA: 2, OENTRY: fakeEntry, OFSBASGX: 0x2000, OGSBASGX: 0x2000}
	t1 := sgx.TCS{OSSA: fakeSSA1 - fakeBase, NSSA: 1, OENTRY: fakeEntry, Flags: sgx.TCSDbgOptIn}
	b0, _ := t0.MarshalBinary()
	b1, _ := t1.MarshalBinary()
	put(fakeTCS0, b0)
	put(fakeTCS1, b1)
	put(fakeSSA0, fakeFrame())
	s.mem[fakeBase] = mem
	pages := []target.Page{
		{Offset: 0x0000, Secinfo: tcsFlags},
		{Offset: 0x1000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoX)},
		{Offset: 0x2000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoW)},
		{Offset: 0x3000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoW)},
		{Offset: 0x4000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoW)},
		{Offset: 0x5000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoW)},
		{Offset: 0x6000, Secinfo: reg(sgx.SecinfoR|sgx.SecinfoW) | sgx.SecinfoPending},
		{Offset: 0x7000, Secinfo: reg(sgx.SecinfoR)},
		{Offset: 0x8000, Secinfo: tcsFlags},
		{Offset: 0x9000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoW)},
	}
	s.encls = []target.EnclaveInfo{
		{Pid: 100, Base: fakeBase, Size: fakeSize, SSAFrameSize: 1, MiscSelect: sgx.MiscEXINFO,
			Attributes: sgx.Attributes{Flags: sgx.AttrInit | sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 3},
			MRENCLAVE:  [32]byte{1, 2, 3}, MRSIGNER: [32]byte{4, 5, 6}, Initialized: true,
			TCS: []uint64{fakeTCS0, fakeTCS1}, Pages: pages},
		{Pid: 100, Base: fakeNDBase, Size: 0x10000, SSAFrameSize: 1,
			Attributes: sgx.Attributes{Flags: sgx.AttrInit | sgx.AttrMode64Bit, XFRM: 3}, Initialized: true,
			TCS: []uint64{fakeNDBase}, Pages: []target.Page{{Offset: 0, Secinfo: tcsFlags}, {Offset: 0x1000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoX)}}},
	}
	s.ev = target.Event{Kind: target.EvAEX, Tid: 101, Enclave: fakeBase, TCS: fakeTCS0, SSA: 0, CSSA: 1, Vector: 14,
		ExitType: sgx.ExitHardware, Valid: true, MAddr: 0x10000, ErrCd: 4, RIP: fakeRIP, AEP: 0x5555000010, Delivery: target.Delivery{Signal: unix.SIGSEGV}}
	s.regs = target.Regs{Rax: 3, Rbx: fakeTCS0, Rcx: 0x5555000010, Rip: 0x5555000010, Rsp: 0x7ffd0000, Rbp: 0x7ffd0010,
		Eflags: 0x202, Cs: 0x33, Ss: 0x2b, Fs_base: 0x7f00ff000000, Orig_rax: ^uint64(0)}
	s.threads = []target.ThreadInfo{{Pid: 100, Tid: 100}, {Pid: 100, Tid: 101}}
	s.timeline = []target.Event{
		{Kind: target.EvEnclaveCreated, Pid: 100, Enclave: fakeBase, Size: fakeSize, SSAFrameSize: 1, MiscSelect: 1, Attributes: sgx.Attributes{Flags: 6, XFRM: 3}},
		{Kind: target.EvPagesAdded, Enclave: fakeBase, Offset: 0, Length: 0x1000, Secinfo: 0x100, Measure: true},
		{Kind: target.EvEnclaveInitialized, Enclave: fakeBase, MRENCLAVE: [32]byte{1, 2, 3}, MRSIGNER: [32]byte{4, 5, 6}},
		{Kind: target.EvEENTER, Tid: 101, TCS: fakeTCS0, CSSA: 0},
		s.ev,
	}
	return s
}

func (s *fakeSource) Event() target.Event            { return s.ev }
func (s *fakeSource) Pending() target.Delivery       { return target.Delivery{Signal: s.sig} }
func (s *fakeSource) Regs() (target.Regs, error)     { return s.regs, s.regsErr }
func (s *fakeSource) Enclaves() []target.EnclaveInfo { return s.encls }
func (s *fakeSource) Threads() []target.ThreadInfo   { return s.threads }
func (s *fakeSource) options() Options               { return Options{Timeline: s.timeline} }
func (s *fakeSource) page(e *target.EnclaveInfo, a uint64) *target.Page {
	for i := range e.Pages {
		if e.Pages[i].Offset == (a-e.Base)&^(sgx.PageSize-1) {
			return &e.Pages[i]
		}
	}
	return nil
}

var errFakeRead = errors.New("fake EDBGRD failure")

func (s *fakeSource) ReadEnclave(buf []byte, addr uint64) (int, error) {
	s.maxRead = max(s.maxRead, len(buf))
	for i := range s.encls {
		e := &s.encls[i]
		if addr < e.Base || addr >= e.Base+e.Size {
			continue
		}
		if e.Attributes.Flags&sgx.AttrDebug == 0 {
			return 0, fmt.Errorf("not a debug enclave")
		}
		for k := range buf {
			a := addr + uint64(k)
			p := s.page(e, a)
			if p == nil || !dumpableSecinfo(p.Secinfo) || s.failAt != 0 && a == s.failAt {
				return k, fmt.Errorf("EDBGRD at %#x: %w", a, errFakeRead)
			}
			if p.Secinfo.PageType() == sgx.PageTypeTCS && a&(sgx.PageSize-1) >= sgx.TCSDebugReadable {
				return k, fmt.Errorf("EDBGRD at %#x: past the TCS's 72 bytes", a)
			}
			buf[k] = s.mem[e.Base][a-e.Base]
		}
		return len(buf), nil
	}
	return 0, fmt.Errorf("%#x: no enclave", addr)
}

// writeCore writes src's core to memory.
func writeCore(t testing.TB, src *fakeSource, opts Options) ([]byte, Summary) {
	t.Helper()
	var b bytes.Buffer
	sum, err := Write(&b, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), sum
}
