package debugger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// ABI is how eenter-handler enters an enclave's exception path.
type ABI string

// Known runtimes.
const (
	// ABISamples: the sample runtime takes its exception path whenever
	// CSSA > 0 and EEXITs with RDI = 2 (handled) or 3 (unhandled), RSI =
	// the vector.
	ABISamples ABI = "samples"
	// ABIIntelSDK: the Intel SGX SDK's tRTS expects RDI = ECMD_EXCEPT (−3).
	ABIIntelSDK ABI = "intel-sdk"
	// ABIRaw: RDI, RSI, RDX as given.
	ABIRaw ABI = "raw"
)

// HandlerView reports an eenter-handler run.
type HandlerView struct {
	ABI     ABI           `json:"abi"`
	Exited  bool          `json:"exited"`
	RDI     Hex           `json:"rdi"`
	RSI     Hex           `json:"rsi"`
	Status  string        `json:"status,omitempty"`
	Handled bool          `json:"handled"` // the runtime's answer: the host would ERESUME
	Frame   int           `json:"frame"`
	Changes []Change      `json:"changes"`
	Nested  *target.Event `json:"nested,omitempty"`
}

// Text tells what the handler did and which SSA fields it changed.
func (r *HandlerView) Text() string {
	var b bytes.Buffer
	switch {
	case r.Exited:
		fmt.Fprintf(&b, "handler returned through EEXIT: RDI %#x RSI %#x", uint64(r.RDI), uint64(r.RSI))
		if r.Status != "" {
			fmt.Fprintf(&b, " (%s)", r.Status)
		}
	case r.Nested != nil:
		fmt.Fprintf(&b, "handler did not return: %s", r.Nested.String())
	}
	if len(r.Changes) == 0 {
		fmt.Fprintf(&b, "\nthe handler changed nothing in SSA frame %d", r.Frame)
	} else {
		fmt.Fprintf(&b, "\nthe handler changed SSA frame %d:", r.Frame)
		for _, c := range r.Changes {
			fmt.Fprintf(&b, "\n  %-10s %#x -> %#x", c.Field, uint64(c.Old), uint64(c.New))
		}
	}
	return b.String()
}

func gprDiff(before, after *ssa.GPRSGX) []Change {
	var out []Change
	for _, name := range ssaRegs {
		o, _ := ssaReg(before, name)
		n, _ := ssaReg(after, name)
		if o != n {
			out = append(out, Change{Field: name, Old: Hex(o), New: Hex(n)})
		}
	}
	if before.ExitInfo != after.ExitInfo {
		out = append(out, Change{Field: "exitinfo", Old: Hex(before.ExitInfo), New: Hex(after.ExitInfo)})
	}
	return out
}

func (s *Session) eenterHandler(st target.Stop, abi ABI, rdi, rsi, rdx uint64) (Result, error) {
	ts, f, err := s.stopFrame(st)
	if err != nil {
		return nil, err
	}
	switch abi {
	case ABISamples:
		rdi, rsi, rdx = ^uint64(2), 0, 0 // any RDI; -3 as the SDK would
	case ABIIntelSDK:
		rdi, rsi, rdx = ^uint64(2), 0, 0 // ECMD_EXCEPT
	case ABIRaw:
	default:
		return nil, errorf(ErrUsage, "eenter-handler: unknown ABI %q (samples, intel-sdk or raw)", abi)
	}
	before := f.GPR
	if err := st.EnterHandler(rdi, rsi, rdx); err != nil {
		return nil, fmt.Errorf("eenter-handler: %w", err)
	}
	hs, err := s.pullHandler()
	if err != nil {
		return nil, fmt.Errorf("eenter-handler: %w", err)
	}
	res := hs.Handler()
	after, err := s.readTCS(hs, ts.addr)
	if err != nil {
		return nil, err
	}
	v := &HandlerView{ABI: abi, Exited: res.Exited, Frame: f.Index, Nested: res.Event}
	if res.Exited {
		v.RDI, v.RSI = Hex(res.Regs.Rdi), Hex(res.Regs.Rsi)
		v.Status, v.Handled = handlerAnswer(abi, res.Regs.Rdi, res.Regs.Rsi)
		s.answer = v
	}
	if f.Index < len(after.frames) {
		v.Changes = gprDiff(&before, &after.frames[f.Index].GPR)
	}
	return v, nil
}

// ocmdERET is the Intel SDK tRTS's EEXIT command for the end of an ECALL
// (RDI = OCMD_ERET, -1; RSI = its sgx_status_t).
const ocmdERET = ^uint64(0)

// handlerAnswer reads what a runtime's exception path said in RDI/RSI at
// its EEXIT, and whether the host would then ERESUME.
func handlerAnswer(abi ABI, rdi, rsi uint64) (string, bool) {
	switch abi {
	case ABISamples:
		switch rdi {
		case 2:
			return "handled: the host would ERESUME", true
		case 3:
			return "unhandled", false
		case 1:
			return "the handler made an OCALL, which is not serviced here", false
		}
	case ABIIntelSDK:
		// The SDK's ECMD_EXCEPT points the SSA at its second-phase handler
		// and returns SGX_SUCCESS; the uRTS then ERESUMEs.
		if rdi == ocmdERET && rsi == 0 {
			return "handled (SGX_SUCCESS): the host would ERESUME into the second phase", true
		}
		if rdi == ocmdERET {
			return fmt.Sprintf("refused (sgx_status_t %#x)", rsi), false
		}
	}
	return "", false
}

// writeSSAReg changes one GPRSGX field of the newest SSA frame (EDBGWR).
func (s *Session) writeSSAReg(st target.Stop, name string, val uint64) (Result, error) {
	off, ok := ssaRegOff[name]
	if !ok {
		names := append([]string(nil), ssaRegs...)
		sort.Strings(names)
		return nil, errorf(ErrNoSymbol, "no SSA register %q (one of %v)", name, names)
	}
	ts, f, err := s.stopFrame(st)
	if err != nil {
		return nil, err
	}
	old, _ := ssaReg(&f.GPR, name)
	addr := f.Addr + uint64(ts.geo.GPRSGXOffset()+off)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], val)
	if _, err := st.WriteEnclave(b[:], addr); err != nil {
		return nil, fmt.Errorf("set ssa.%s: %w", name, err)
	}
	return &ActionResult{Action: "set", Message: fmt.Sprintf("SSA frame %d of TCS %#x: %s = %#x", f.Index, ts.addr, name, val),
		Changes: []Change{{Field: name, Old: Hex(old), New: Hex(val)}}}, nil
}

// skip advances the newest SSA frame's RIP past the faulting instruction.
func (s *Session) skip(st target.Stop) (Result, error) {
	_, f, err := s.stopFrame(st)
	if err != nil {
		return nil, err
	}
	rip := f.GPR.RIP
	var what string
	next := rip
	if _, after, quirk := f.FaultRIP(); quirk {
		// INT3: SSA.RIP is the INT3 itself; skipping it is the +1.
		what, next = fmt.Sprintf("the INT3 (1 byte) at %#x", rip), after
	} else {
		buf := make([]byte, 16)
		n, err := st.ReadEnclave(buf, rip)
		if n == 0 {
			return nil, fmt.Errorf("skip: read the instruction at %#x: %w", rip, err)
		}
		l, text, err := decodeInsn(buf[:n], rip, nil)
		if err != nil {
			return nil, fmt.Errorf("skip: decode the instruction at %#x: %w", rip, err)
		}
		what, next = fmt.Sprintf("%q (%d bytes) at %#x", text, l, rip), rip+uint64(l)
	}
	r, err := s.writeSSAReg(st, "rip", next)
	if err != nil {
		return nil, err
	}
	ar := r.(*ActionResult)
	ar.Action = "skip"
	ar.Message = fmt.Sprintf("skipped %s; ERESUME continues at %#x", what, next)
	return ar, nil
}

// writeMemory writes enclave memory through EDBGWR.
func (s *Session) writeMemory(st target.Stop, addr uint64, data []byte) (Result, error) {
	encl, ok := enclaveAt(st, addr)
	if !ok {
		return nil, fmt.Errorf("write: %#x: %w", addr, target.ErrNotEnclave)
	}
	if err := debugEnclave(encl); err != nil {
		return nil, err
	}
	old := make([]byte, len(data))
	_, _ = st.ReadEnclave(old, addr)
	if _, err := st.WriteEnclave(data, addr); err != nil {
		return nil, fmt.Errorf("write %d bytes at %#x: %w", len(data), addr, err)
	}
	return &ActionResult{Action: "write", Message: fmt.Sprintf("wrote % x at %#x (was % x)", data, addr, old)}, nil
}
