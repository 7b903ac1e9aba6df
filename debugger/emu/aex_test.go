package emu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// aexCapture is what an AEX looked like from the tracer at the moment it
// happened: the SSA frame through EDBGRD and the thread's registers.
type aexCapture struct {
	ev    Event
	frame *ssa.Frame
	regs  ptrace.Regs
	err   error
}

// captureAEX returns an onEvent hook that decodes SSA[ev.SSA] at the first
// AEX, through the EDBGRD path, and reads the synthetic registers.
func captureAEX(c *aexCapture) func(*Emulator, Event) {
	return func(em *Emulator, ev Event) {
		if ev.Kind != EvAEX || c.frame != nil || c.err != nil {
			return
		}
		c.ev = ev
		g := ssa.Geometry{Base: ev.Enclave, OSSA: offSSA, FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3}
		buf := make([]byte, g.FrameBytes())
		if _, err := em.ReadEnclave(ev.Pid, buf, g.FrameAddr(ev.SSA)); err != nil {
			c.err = err
			return
		}
		if c.frame, c.err = ssa.DecodeFrame(buf, g, ev.SSA); c.err != nil {
			return
		}
		c.regs, c.err = ptrace.GetRegs(ev.Tid)
	}
}

func TestConformAEX(t *testing.T) {
	tests := []struct {
		op       string
		at       string // label of the faulting instruction in encl.S
		vector   sgx.Vector
		exitType sgx.ExitType
		maddr    func(base uint64) uint64 // nil: no EXINFO expected
		errcd    uint32
		host     func(base, aep uint64) string // the host's signal line
	}{
		{"2", "at_ud2", sgx.VectorUD, sgx.ExitHardware, nil, 0,
			func(b, aep uint64) string { return fmt.Sprintf("signal 4 code 2 addr %#x at aep rax 3", aep) }},
		// First touch of a read-only page: PTE not present, W|U.
		{"3", "at_write_ro", sgx.VectorPF, sgx.ExitHardware, func(b uint64) uint64 { return b + offRO + 8 }, 0x6,
			func(b, _ uint64) string { return fmt.Sprintf("signal 11 code 2 addr %#x at aep rax 3", b+offRO) }},
		// Enclave code writing its TCS: page tables allow it, the EPCM does not.
		{"4", "at_write_tcs", sgx.VectorPF, sgx.ExitHardware, func(b uint64) uint64 { return b + offTCS + 0x10 }, 0x8007,
			func(b, _ uint64) string { return fmt.Sprintf("signal 11 code 2 addr %#x at aep rax 3", b+offTCS) }},
		{"5", "at_int3", sgx.VectorBP, sgx.ExitSoftware, nil, 0,
			func(b, _ uint64) string { return "signal 5 code 128 addr 0 at aep rax 3" }},
		{"6", "at_cpuid", sgx.VectorUD, sgx.ExitHardware, nil, 0,
			func(b, aep uint64) string { return fmt.Sprintf("signal 4 code 2 addr %#x at aep rax 3", aep) }},
		{"7", "at_read_outside", sgx.VectorPF, sgx.ExitHardware, func(uint64) uint64 { return 0x10008 }, 0x4,
			func(b, _ uint64) string { return "signal 11 code 1 addr 0x10000 at aep rax 3" }},
		{"8", "at_div0", sgx.VectorDE, sgx.ExitHardware, nil, 0,
			func(b, aep uint64) string { return fmt.Sprintf("signal 8 code 1 addr %#x at aep rax 3", aep) }},
		{"9", "at_noncanonical", sgx.VectorGP, sgx.ExitHardware, func(uint64) uint64 { return 0 }, 0,
			func(b, _ uint64) string { return "signal 11 code 128 addr 0 at aep rax 3" }},
		{"10", "at_syscall", sgx.VectorUD, sgx.ExitHardware, nil, 0,
			func(b, aep uint64) string { return fmt.Sprintf("signal 4 code 2 addr %#x at aep rax 3", aep) }},
	}
	for _, tc := range tests {
		t.Run(tc.at, func(t *testing.T) {
			var c aexCapture
			r := runConform(t, conformEnclave{}, nil, nil, captureAEX(&c), "fault", tc.op)
			if c.err != nil {
				t.Fatal(c.err)
			}
			if c.frame == nil {
				t.Fatalf("no AEX; events: %s\nhost: %s", r.kinds(), r.out)
			}
			base := c.ev.Enclave
			f, g := c.frame, c.frame.GPR
			wantRIP := base + conformSyms[tc.at]
			if g.RIP != wantRIP || c.ev.RIP != wantRIP {
				t.Errorf("SSA.RIP %#x, event rip %#x, want %#x (%s)", g.RIP, c.ev.RIP, wantRIP, tc.at)
			}
			if g.ExitInfo != ssa.MakeExitInfo(tc.vector, tc.exitType) {
				t.Errorf("EXITINFO %v, want %v %v valid", g.ExitInfo, tc.vector, tc.exitType)
			}
			if c.ev.SSA != 0 || c.ev.CSSA != 1 {
				t.Errorf("event ssa %d cssa %d, want 0 and 1", c.ev.SSA, c.ev.CSSA)
			}
			if tc.maddr != nil {
				if f.ExInfo == nil || f.ExInfo.MAddr != tc.maddr(base) || uint32(f.ExInfo.ErrCd) != tc.errcd {
					t.Errorf("EXINFO %+v, want MADDR %#x ERRCD %#x", f.ExInfo, tc.maddr(base), tc.errcd)
				}
				if c.ev.MAddr != tc.maddr(base) || c.ev.ErrCd != tc.errcd {
					t.Errorf("event maddr %#x errcd %#x", c.ev.MAddr, c.ev.ErrCd)
				}
			}
			if tc.op == "2" && g.R12 != 0x1111 {
				t.Errorf("SSA R12 = %#x, want the 0x1111 the enclave set", g.R12)
			}
			if tc.op == "3" && g.R13 != 0x2222 {
				t.Errorf("SSA R13 = %#x, want 0x2222", g.R13)
			}
			// The thread as the host sees it is the synthetic state of SGX.md §3.
			got := ssa.Regs{RAX: c.regs.Rax, RBX: c.regs.Rbx, RCX: c.regs.Rcx, RDX: c.regs.Rdx, RSI: c.regs.Rsi, RDI: c.regs.Rdi,
				RSP: c.regs.Rsp, RBP: c.regs.Rbp, R8: c.regs.R8, R9: c.regs.R9, R10: c.regs.R10, R11: c.regs.R11,
				R12: c.regs.R12, R13: c.regs.R13, R14: c.regs.R14, R15: c.regs.R15, RIP: c.regs.Rip, RFLAGS: c.regs.Eflags,
				FSBase: c.regs.Fs_base, GSBase: c.regs.Gs_base}
			want := ssa.Synthetic(base+offTCS, c.ev.AEP, f, c.regs.Fs_base, c.regs.Gs_base, c.regs.Eflags)
			if m := ssa.CheckSynthetic(got, want, "FSBase", "GSBase"); len(m) > 0 {
				t.Errorf("synthetic state differs: %v", m)
			}
			if g.URSP == 0 || c.regs.Rsp != g.URSP || c.regs.Rbp != g.URBP {
				t.Errorf("RSP/RBP at AEP %#x/%#x, SSA URSP/URBP %#x/%#x", c.regs.Rsp, c.regs.Rbp, g.URSP, g.URBP)
			}
			if g.FSBase != base+offData || g.GSBase != base+offData {
				t.Errorf("SSA FS/GS base %#x/%#x, want the TCS's %#x", g.FSBase, g.GSBase, base+offData)
			}
			if want := tc.host(base, c.ev.AEP); !strings.Contains(r.out, want+"\n") {
				t.Errorf("host printed %q, want the line %q", r.out, want)
			}
		})
	}
}

// EDBGRD shows the original bytes of an instruction the emulator rewrote
// to UD2, and the enclave's TCS fields as EADD left them.
func TestEDBGRDOriginalBytesAndTCS(t *testing.T) {
	var cpuid, tcs, flags, data []byte
	var rdErr, wrFlagsErr, wrOtherErr, wrDataErr, rdTCSRes error
	runConform(t, conformEnclave{}, nil, nil, func(em *Emulator, ev Event) {
		if ev.Kind != EvAEX {
			return
		}
		cpuid = make([]byte, 2)
		_, rdErr = em.ReadEnclave(ev.Pid, cpuid, ev.Enclave+conformSyms["at_cpuid"])
		tcs = make([]byte, 72)
		_, rdTCSRes = em.ReadEnclave(ev.Pid, tcs, ev.TCS)
		_, wrFlagsErr = em.WriteEnclave(ev.Pid, []byte{1, 0, 0, 0, 0, 0, 0, 0}, ev.TCS+8)
		flags = make([]byte, 8)
		_, _ = em.ReadEnclave(ev.Pid, flags, ev.TCS+8)
		// An unaligned write spanning two words, read back.
		_, wrDataErr = em.WriteEnclave(ev.Pid, []byte{0xa1, 0xa2, 0xa3, 0xa4, 0xa5}, ev.Enclave+offData+6)
		data = make([]byte, 7)
		_, _ = em.ReadEnclave(ev.Pid, data, ev.Enclave+offData+5)
		_, wrOtherErr = em.WriteEnclave(ev.Pid, []byte{9}, ev.TCS+16)
	}, "fault", "6")
	if rdErr != nil || string(cpuid) != "\x0f\xa2" {
		t.Errorf("EDBGRD at the CPUID = % x, %v; want 0f a2", cpuid, rdErr)
	}
	if rdTCSRes != nil {
		t.Fatal(rdTCSRes)
	}
	if got := binary.LittleEndian.Uint32(tcs[24:]); got != 1 {
		t.Errorf("TCS.CSSA after the AEX = %d, want 1", got)
	}
	if got := binary.LittleEndian.Uint64(tcs[16:]); got != offSSA {
		t.Errorf("TCS.OSSA = %#x, want %#x", got, offSSA)
	}
	if wrFlagsErr != nil || flags[0] != 1 {
		t.Errorf("EDBGWR of TCS.FLAGS: %v; FLAGS now % x, want DBGOPTIN", wrFlagsErr, flags)
	}
	if wrDataErr != nil || string(data) != "\x00\xa1\xa2\xa3\xa4\xa5\x00" {
		t.Errorf("EDBGWR across two words: %v; read back % x", wrDataErr, data)
	}
	var de *target.DebugAccessError
	if !errors.As(wrOtherErr, &de) || !de.Write {
		t.Errorf("EDBGWR of TCS.OSSA: %v, want a target.DebugAccessError", wrOtherErr)
	}
}

func TestEDBGRDNonDebugEnclave(t *testing.T) {
	var err error
	r := runConform(t, conformEnclave{attributes: sgx.AttrMode64Bit}, nil, nil, func(em *Emulator, ev Event) {
		if ev.Kind == EvEnclaveInitialized {
			_, err = em.ReadEnclave(ev.Pid, make([]byte, 8), ev.Enclave)
		}
	}, "enter", "0")
	if !errors.Is(err, ErrNotDebug) {
		t.Errorf("EDBGRD of a non-debug enclave: %v, want ErrNotDebug", err)
	}
	if !strings.Contains(r.out, "returned 42") {
		t.Errorf("host: %q", r.out)
	}
}

func TestConformENCLUFaults(t *testing.T) {
	tests := []struct {
		name     string
		enclave  conformEnclave
		scenario []string
		reason   string
		host     string
	}{
		{"busy TCS", conformEnclave{}, []string{"busy"}, "busy", "signal 11 code 128 addr 0 at eenter rax 2"},
		{"CSSA = NSSA", conformEnclave{nssa: 1}, []string{"nested", "2"}, "CSSA 1 >= NSSA 1", "signal 11 code 128 addr 0 at eenter rax 2"},
		{"ERESUME with CSSA 0", conformEnclave{}, []string{"eresume0"}, "CSSA is 0", "signal 11 code 128 addr 0 at other rax 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runConform(t, tc.enclave, nil, nil, nil, tc.scenario...)
			f := r.find(EvENCLUFault)
			if len(f) != 1 || f[0].Vector != sgx.VectorGP || !strings.Contains(f[0].Reason, tc.reason) {
				t.Fatalf("enclu-fault events %+v, want one #GP (%s); events %s", f, tc.reason, r.kinds())
			}
			if !strings.Contains(r.out, tc.host+"\n") {
				t.Errorf("host printed %q, want %q", r.out, tc.host)
			}
		})
	}
}

func TestConformEINITFailures(t *testing.T) {
	tests := []struct {
		name           string
		tweak, corrupt func(*sgx.SigStruct)
	}{
		{"wrong MRENCLAVE", func(s *sgx.SigStruct) { s.EnclaveHash[0] ^= 1 }, nil},
		{"bad signature", nil, func(s *sgx.SigStruct) { s.Signature[7] ^= 0x40 }},
		{"masked attribute mismatch", func(s *sgx.SigStruct) { s.Attributes.Flags |= sgx.AttrKSS }, nil},
		{"MISCSELECT mismatch", func(s *sgx.SigStruct) { s.MiscSelect = 0 }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runConform(t, conformEnclave{}, tc.tweak, tc.corrupt, nil, "init")
			if !strings.Contains(r.out, "init failed errno 1\n") { // EPERM
				t.Errorf("host printed %q, want EINIT to fail with EPERM", r.out)
			}
			if len(r.find(EvEnclaveInitialized)) != 0 {
				t.Errorf("enclave-initialized reported")
			}
		})
	}
}

// The SSA's XSAVE area holds the enclave's XMM registers at the AEX, and
// the host sees them in their initial state (SGX.md §3, step 2).
func TestAEXSavesXState(t *testing.T) {
	var c aexCapture
	var hostXMM0, hostXMM15 []byte
	var xerr error
	hook := captureAEX(&c)
	runConform(t, conformEnclave{}, nil, nil, func(em *Emulator, ev Event) {
		hook(em, ev)
		if ev.Kind == EvAEX && hostXMM0 == nil {
			var xs []byte
			xs, xerr = ptrace.GetXState(ev.Tid, make([]byte, 4096))
			if xerr == nil {
				hostXMM0, hostXMM15 = xs[160:176], xs[160+15*16:176+15*16]
			}
		}
	}, "fault", "11")
	if c.err != nil || xerr != nil {
		t.Fatal(c.err, xerr)
	}
	x := c.frame.XSave
	if got := binary.LittleEndian.Uint64(x.XMM[0][:]); got != 0x1122334455667788 {
		t.Errorf("SSA XMM0 = %#x, want 0x1122334455667788", got)
	}
	if got := binary.LittleEndian.Uint64(x.XMM[15][:]); got != 0x99aabbccddeeff00 {
		t.Errorf("SSA XMM15 = %#x, want 0x99aabbccddeeff00", got)
	}
	if x.XStateBV&2 == 0 {
		t.Errorf("SSA XSTATE_BV %#x lacks SSE", x.XStateBV)
	}
	if string(hostXMM0) != string(make([]byte, 16)) || string(hostXMM15) != string(make([]byte, 16)) {
		t.Errorf("host XMM0 % x XMM15 % x at the AEP, want the initial state (zeros)", hostXMM0, hostXMM15)
	}
	if c.frame.GPR.RIP != c.ev.Enclave+conformSyms["at_xmm"] {
		t.Errorf("SSA.RIP %#x", c.frame.GPR.RIP)
	}
}
