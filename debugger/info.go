package debugger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// TCSView is one TCS as EDBGRD shows it.
type TCSView struct {
	Index  int    `json:"index"`
	Addr   Hex    `json:"addr"`
	State  uint64 `json:"state"`
	Flags  string `json:"flags"`
	CSSA   uint32 `json:"cssa"`
	NSSA   uint32 `json:"nssa"`
	OSSA   Hex    `json:"ossa"`
	OENTRY Hex    `json:"oentry"`
	Thread int    `json:"thread,omitempty"` // the thread inside it, if any
	Error  string `json:"error,omitempty"`
}

// MarshalJSON leaves out the fields of a TCS that could not be read (a
// production enclave's): zeros there would pass for values.
func (v TCSView) MarshalJSON() ([]byte, error) {
	type plain TCSView
	if v.Error == "" {
		return json.Marshal(plain(v))
	}
	return json.Marshal(struct {
		Index  int    `json:"index"`
		Addr   Hex    `json:"addr"`
		Thread int    `json:"thread,omitempty"`
		Error  string `json:"error"`
	}{v.Index, v.Addr, v.Thread, v.Error})
}

// EnclaveView is one enclave.
type EnclaveView struct {
	Base         Hex       `json:"base"`
	Size         Hex       `json:"size"`
	SSAFrameSize uint32    `json:"ssa_frame_size"`
	MiscSelect   Hex       `json:"miscselect"`
	Attributes   Hex       `json:"attributes"`
	AttrNames    string    `json:"attribute_names"`
	XFRM         Hex       `json:"xfrm"`
	MRENCLAVE    Digest    `json:"mrenclave"`
	MRSIGNER     Digest    `json:"mrsigner"`
	Initialized  bool      `json:"initialized"`
	Image        string    `json:"image,omitempty"`
	TCS          []TCSView `json:"tcs"`
	// CPUIDRewritten names each CPUID the emulator rewrote to UD2 (only on
	// a CPU without CPUID faulting).
	CPUIDRewritten []string `json:"cpuid_rewritten,omitempty"`
	// ChangedPages lists the pages SGX2 changed whose EPCM state is not
	// plain (PENDING, MODIFIED, PR or PT_TRIM): "0x10000 R+W+PENDING+PT_REG".
	ChangedPages []string `json:"changed_pages,omitempty"`
}

// changedPages names the pages of e in an SGX2 state.
func changedPages(e target.EnclaveInfo) []string {
	var out []string
	for _, p := range e.Pages {
		if p.Secinfo&(sgx.SecinfoPending|sgx.SecinfoModified|sgx.SecinfoPR) != 0 || p.Secinfo.PageType() == sgx.PageTypeTRIM {
			out = append(out, fmt.Sprintf("%#x %v", e.Base+p.Offset, p.Secinfo))
		}
	}
	return out
}

// EnclavesResult lists enclaves and their TCS.
type EnclavesResult struct {
	Enclaves []EnclaveView `json:"enclaves"`
}

// Text renders one block per enclave.
func (r *EnclavesResult) Text() string {
	if len(r.Enclaves) == 0 {
		return "no enclaves"
	}
	var b strings.Builder
	for _, e := range r.Enclaves {
		fmt.Fprintf(&b, "enclave %#x size %#x ssaframesize %d miscselect %#x attributes %#x (%s) xfrm %#x\n",
			uint64(e.Base), uint64(e.Size), e.SSAFrameSize, uint64(e.MiscSelect), uint64(e.Attributes), e.AttrNames, uint64(e.XFRM))
		fmt.Fprintf(&b, "  mrenclave %s\n  mrsigner  %s\n", e.MRENCLAVE, e.MRSIGNER)
		if e.Image != "" {
			fmt.Fprintf(&b, "  image     %s\n", e.Image)
		}
		b.WriteString((&TCSResult{TCS: e.TCS}).Text())
		b.WriteString("\n")
		for _, site := range e.CPUIDRewritten {
			fmt.Fprintf(&b, "  CPUID rewritten to UD2 at %s\n", site)
		}
		for _, p := range e.ChangedPages {
			fmt.Fprintf(&b, "  page %s\n", p)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// TCSResult lists TCS.
type TCSResult struct {
	TCS []TCSView `json:"tcs"`
}

// Text renders one line per TCS.
func (r *TCSResult) Text() string {
	var b strings.Builder
	for _, t := range r.TCS {
		if t.Error != "" {
			fmt.Fprintf(&b, "  TCS %d %#x: %s\n", t.Index, uint64(t.Addr), t.Error)
			continue
		}
		state := "idle"
		if t.State != 0 {
			state = "busy"
		}
		fmt.Fprintf(&b, "  TCS %d %#x %s CSSA %d/NSSA %d OSSA %#x OENTRY %#x flags %s", t.Index, uint64(t.Addr), state, t.CSSA, t.NSSA, uint64(t.OSSA), uint64(t.OENTRY), t.Flags)
		if t.Thread != 0 {
			fmt.Fprintf(&b, " thread %d inside", t.Thread)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Session) tcsViews(st target.Stop, e target.EnclaveInfo) []TCSView {
	inside := map[uint64]int{}
	for _, th := range st.Threads() {
		if th.InEnclave {
			inside[th.TCS] = th.Tid
		}
	}
	var out []TCSView
	for i, addr := range e.TCS {
		v := TCSView{Index: i, Addr: Hex(addr), Thread: inside[addr]}
		raw := make([]byte, sgx.TCSDebugReadable)
		if err := debugEnclave(e); err != nil {
			v.Error = "not a debug enclave"
		} else if _, err := st.ReadEnclave(raw, addr); err != nil {
			v.Error = err.Error()
		} else {
			var t sgx.TCS
			if err := t.UnmarshalBinary(raw); err != nil {
				v.Error = err.Error()
			} else {
				v.State, v.Flags, v.CSSA, v.NSSA, v.OSSA, v.OENTRY = t.State, t.Flags.String(), t.CSSA, t.NSSA, Hex(t.OSSA), Hex(t.OENTRY)
			}
		}
		out = append(out, v)
	}
	return out
}

func (s *Session) viewEnclaves(st target.Stop) (Result, error) {
	r := &EnclavesResult{}
	for _, e := range st.Enclaves() {
		v := EnclaveView{Base: Hex(e.Base), Size: Hex(e.Size), SSAFrameSize: e.SSAFrameSize, MiscSelect: Hex(e.MiscSelect),
			Attributes: Hex(e.Attributes.Flags), AttrNames: e.Attributes.Flags.String(), XFRM: Hex(e.Attributes.XFRM),
			MRENCLAVE: e.MRENCLAVE, MRSIGNER: e.MRSIGNER, Initialized: e.Initialized, TCS: s.tcsViews(st, e),
			ChangedPages: changedPages(e)}
		im := s.Image(e.Base)
		if im != nil {
			v.Image = im.Path
		}
		for _, site := range e.CPUIDRewritten {
			v.CPUIDRewritten = append(v.CPUIDRewritten, s.siteName(im, e.Base, site))
		}
		r.Enclaves = append(r.Enclaves, v)
	}
	return r, nil
}

func (s *Session) viewTCS(st target.Stop) (Result, error) {
	r := &TCSResult{}
	for _, e := range st.Enclaves() {
		r.TCS = append(r.TCS, s.tcsViews(st, e)...)
	}
	return r, nil
}

// ThreadsResult lists the host's threads.
type ThreadsResult struct {
	Threads []ThreadView `json:"threads"`
}

// ThreadView is one thread.
type ThreadView struct {
	Tid       int  `json:"tid"`
	InEnclave bool `json:"in_enclave"`
	TCS       Hex  `json:"tcs,omitempty"`
	Stopped   bool `json:"stopped"`
	// State is "enclave" (running inside an enclave), "aex" (its last
	// transition was an AEX whose SSA frame is still in use: at the AEP,
	// in its signal handler, or held by the debugger) or "host".
	State string `json:"state"`
	Frame int    `json:"ssa_frame,omitempty"` // at an AEX: the SSA frame it wrote
	// Selected marks the thread the views follow (thread command).
	Selected bool `json:"selected,omitempty"`
}

// Text renders one line per thread.
func (r *ThreadsResult) Text() string {
	var b strings.Builder
	for _, t := range r.Threads {
		mark := " " // ▸ as the TUI marks the stopped TCS; * means "changed"
		if t.Stopped {
			mark = "▸"
		}
		where := "in host code"
		switch t.State {
		case "enclave":
			where = fmt.Sprintf("inside the enclave on TCS %#x", uint64(t.TCS))
		case "aex":
			where = fmt.Sprintf("at an AEX of TCS %#x (SSA frame %d in use)", uint64(t.TCS), t.Frame)
		}
		if t.Selected {
			where += " (selected)"
		}
		fmt.Fprintf(&b, "%s thread %d %s\n", mark, t.Tid, where)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Session) viewThreads(st target.Stop) (Result, error) {
	r := &ThreadsResult{}
	for _, th := range st.Threads() {
		v := ThreadView{Tid: th.Tid, InEnclave: th.InEnclave, TCS: Hex(th.TCS), Stopped: th.Tid == st.Event().Tid, State: "host"}
		switch tcs, frame, state := s.threadState(st, th); state {
		case "enclave":
			v.State = state
		case "aex":
			v.State, v.TCS, v.Frame = state, Hex(tcs), frame
		}
		v.Selected = s.tcsSel != 0 && uint64(v.TCS) == s.tcsSel
		r.Threads = append(r.Threads, v)
	}
	return r, nil
}

// threadState says where a thread is: inside an enclave, at an AEX whose
// frame is still in use (its last transition in the timeline, checked
// against the TCS's CSSA), or in host code.
func (s *Session) threadState(st target.Stop, th target.ThreadInfo) (tcs uint64, frame int, state string) {
	if th.InEnclave {
		return th.TCS, 0, "enclave"
	}
	tl := s.Timeline()
	for i := len(tl) - 1; i >= 0; i-- {
		ev := tl[i]
		if ev.Tid != th.Tid {
			continue
		}
		switch ev.Kind {
		case target.EvAEX:
			if ts, err := s.readTCS(st, ev.TCS); err == nil && int(ts.tcs.CSSA) > ev.SSA {
				return ev.TCS, ev.SSA, "aex"
			}
			return 0, 0, "host"
		case target.EvEENTER, target.EvERESUME, target.EvEEXIT:
			return 0, 0, "host"
		}
	}
	return 0, 0, "host"
}

// cmdThread selects the thread whose TCS the views show (at an AEX).
func cmdThread(s *Session, args []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		if len(args) == 0 {
			return s.viewThreads(st)
		}
		tid, err := strconv.Atoi(args[0])
		if err != nil {
			return nil, errorf(ErrUsage, "thread: %q is not a thread id", args[0])
		}
		for _, th := range st.Threads() {
			if th.Tid != tid {
				continue
			}
			tcs, _, state := s.threadState(st, th)
			switch state {
			case "aex":
				s.tcsSel, s.frameSel = tcs, 0
				if tid == st.Event().Tid && tcs == st.Event().TCS {
					s.tcsSel = 0
				}
				return s.viewThreads(st)
			case "enclave":
				return nil, errorf(ErrNoFrame, "thread %d runs inside the enclave (TCS %#x): its registers are in no SSA frame until an AEX (interrupt it)", tid, th.TCS)
			}
			if tid == st.Event().Tid {
				s.tcsSel, s.frameSel = 0, 0
				return s.viewThreads(st)
			}
			return nil, errorf(ErrNoFrame, "thread %d is in host code: it has no enclave state", tid)
		}
		return nil, errorf(ErrNoSymbol, "thread: no thread %d", tid)
	})
}

// cmdTCS selects the TCS (by address, or index in info tcs) whose SSA
// frames the views show.
func cmdTCS(s *Session, args []string) (Result, error) {
	if len(args) != 1 {
		return nil, usage("tcs ADDR|INDEX")
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		var all []uint64
		for _, e := range st.Enclaves() {
			all = append(all, e.TCS...)
		}
		v, err := strconv.ParseUint(args[0], 0, 64)
		if err != nil {
			return nil, errorf(ErrUsage, "tcs: %q is not an address or an index", args[0])
		}
		addr := v
		if v < uint64(len(all)) {
			addr = all[v]
		}
		for _, a := range all {
			if a == addr {
				s.tcsSel, s.frameSel = a, 0
				if a == st.Event().TCS {
					s.tcsSel = 0
				}
				return s.viewTCS(st)
			}
		}
		return nil, errorf(ErrNoFrame, "tcs: no TCS %s", args[0])
	})
}

// MemoryResult is memory shown by x/FMT.
type MemoryResult struct {
	Addr   Hex         `json:"addr"`
	Format string      `json:"format"`
	Size   int         `json:"unit"`
	Values []Hex       `json:"values,omitempty"`
	String string      `json:"string,omitempty"`
	Lines  []DisasLine `json:"instructions,omitempty"`
}

// Text renders gdb-like rows.
func (r *MemoryResult) Text() string {
	if r.Format == "s" {
		return fmt.Sprintf("%#x: %q", uint64(r.Addr), r.String)
	}
	if r.Format == "i" {
		return (&DisasResult{Lines: r.Lines}).Text()
	}
	var b strings.Builder
	per := 16 / r.Size
	for i, v := range r.Values {
		if i%per == 0 {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%#x:", uint64(r.Addr)+uint64(i*r.Size))
		}
		switch r.Format {
		case "d":
			fmt.Fprintf(&b, " %d", signExtend(uint64(v), r.Size))
		case "u":
			fmt.Fprintf(&b, " %d", uint64(v))
		default:
			fmt.Fprintf(&b, " 0x%0*x", 2*r.Size, uint64(v))
		}
	}
	return b.String()
}

func signExtend(v uint64, size int) int64 {
	shift := 64 - 8*size
	return int64(v<<shift) >> shift
}

// enclaveAt returns the enclave whose ELRANGE holds addr.
func enclaveAt(st target.Stop, addr uint64) (target.EnclaveInfo, bool) {
	for _, e := range st.Enclaves() {
		if addr >= e.Base && addr < e.Base+e.Size {
			return e, true
		}
	}
	return target.EnclaveInfo{}, false
}

// readMemory reads enclave memory through EDBGRD, host memory otherwise.
func (s *Session) readMemory(st target.Stop, buf []byte, addr uint64) (int, error) {
	if e, ok := enclaveAt(st, addr); ok {
		if err := debugEnclave(e); err != nil {
			return 0, err
		}
		return st.ReadEnclave(buf, addr)
	}
	return st.ReadHost(buf, addr)
}

func (s *Session) viewMemory(st target.Stop, count int, format string, size int, addr uint64) (Result, error) {
	r := &MemoryResult{Addr: Hex(addr), Format: format, Size: size}
	switch format {
	case "i":
		e, _ := enclaveAt(st, addr)
		d, err := s.disassemble(st, e.Base, addr, 0, count)
		if err != nil {
			return nil, err
		}
		r.Lines = d.Lines
		return r, nil
	case "s":
		buf := make([]byte, 256)
		n, err := s.readMemory(st, buf, addr)
		if n == 0 {
			return nil, err
		}
		if i := strings.IndexByte(string(buf[:n]), 0); i >= 0 {
			n = i
		}
		r.String = string(buf[:n])
		return r, nil
	}
	buf := make([]byte, count*size)
	n, err := s.readMemory(st, buf, addr)
	if n < len(buf) {
		return nil, fmt.Errorf("read %d bytes at %#x: %w", len(buf), addr, err)
	}
	for i := 0; i < count; i++ {
		var v uint64
		switch size {
		case 1:
			v = uint64(buf[i])
		case 2:
			v = uint64(binary.LittleEndian.Uint16(buf[2*i:]))
		case 4:
			v = uint64(binary.LittleEndian.Uint32(buf[4*i:]))
		default:
			v = binary.LittleEndian.Uint64(buf[8*i:])
		}
		r.Values = append(r.Values, Hex(v))
	}
	return r, nil
}
