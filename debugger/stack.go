package debugger

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Stack and heap high-water marks. The image says what every page held
// when it was added (the EADD source, which MRENCLAVE measures), so the
// lowest byte of a stack region that differs from it now is the deepest
// byte the enclave ever wrote there — exact, without a pattern fill (a
// write of the byte the page already held cannot be seen). The same for
// the highest modified byte of the heap.

// StackResult lists the stack of every TCS and the heap of each enclave.
type StackResult struct {
	Regions []RegionUse `json:"regions"`
}

// RegionUse is how much of a stack or heap region was ever written (a
// stack: or is in use below RSP).
type RegionUse struct {
	Enclave Hex    `json:"enclave"`
	Kind    string `json:"kind"` // STACK or HEAP
	TCS     *Hex   `json:"tcs,omitempty"`
	Start   Hex    `json:"start"`
	End     Hex    `json:"end"`
	RSP     *Hex   `json:"rsp,omitempty"` // the TCS's stack pointer now (newest SSA frame, or the thread)
	// Deepest is the lowest modified byte of a stack (the highest of a
	// heap); Used the bytes from it to the region's end (start).
	Deepest *Hex `json:"deepest,omitempty"`
	Used    Hex  `json:"used"`
	// Exhausted: the writes reach the region's last byte (a stack's
	// lowest): the next one is in the guard page beyond.
	Exhausted bool   `json:"exhausted"`
	Guard     *Hex   `json:"guard,omitempty"` // the guard page below a stack (above a heap), if the image has one
	Error     string `json:"error,omitempty"`
}

// Text renders one line per region.
func (r *StackResult) Text() string {
	var b strings.Builder
	for _, u := range r.Regions {
		size := uint64(u.End - u.Start)
		fmt.Fprintf(&b, "%s [%#x, %#x) %s", u.Kind, uint64(u.Start), uint64(u.End), kib(size))
		if u.TCS != nil {
			fmt.Fprintf(&b, " of TCS %#x", uint64(*u.TCS))
		}
		switch {
		case u.Error != "":
			fmt.Fprintf(&b, ": %s", u.Error)
		case u.Deepest == nil:
			b.WriteString(": never written")
		default:
			fmt.Fprintf(&b, ": high-water mark %#x, %s of %s used", uint64(*u.Deepest), kib(uint64(u.Used)), kib(size))
		}
		if u.RSP != nil {
			fmt.Fprintf(&b, "; RSP %#x (%s in use)", uint64(*u.RSP), kib(uint64(u.End)-min(uint64(*u.RSP), uint64(u.End))))
		}
		if u.Exhausted {
			b.WriteString("; EXHAUSTED: writes reach its last byte")
			if u.Guard != nil {
				fmt.Fprintf(&b, ", the guard page at %#x is next", uint64(*u.Guard))
			}
		}
		b.WriteString("\n")
	}
	if len(r.Regions) == 0 {
		return "no stack or heap regions (no enclave image with region notes is matched)"
	}
	return strings.TrimRight(b.String(), "\n")
}

func kib(n uint64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (s *Session) viewStack(st target.Stop) (Result, error) {
	r := &StackResult{Regions: []RegionUse{}}
	for _, e := range st.Enclaves() {
		im := s.Image(e.Base)
		if im == nil {
			continue
		}
		if err := debugEnclave(e); err != nil {
			return nil, err
		}
		for _, reg := range im.Regions {
			if reg.Kind != enclave.RegionStack && reg.Kind != enclave.RegionHeap {
				continue
			}
			u := s.regionUse(st, e, im, reg)
			r.Regions = append(r.Regions, u)
		}
	}
	return r, nil
}

// regionUse measures one region against the image's initial contents.
func (s *Session) regionUse(st target.Stop, e target.EnclaveInfo, im *enclave.Image, reg enclave.Region) RegionUse {
	u := RegionUse{Enclave: Hex(e.Base), Kind: reg.Kind.String(), Start: Hex(e.Base + reg.Offset), End: Hex(e.Base + reg.End())}
	stack := reg.Kind == enclave.RegionStack
	if reg.TCSIndex >= 0 && reg.TCSIndex < len(im.TCS) {
		tcs := Hex(e.Base + im.TCS[reg.TCSIndex].Offset)
		u.TCS = &tcs
		if ts, err := s.readTCS(st, uint64(tcs)); err == nil {
			if f, err := ts.newest(); err == nil && f.GPR.RSP >= uint64(u.Start) && f.GPR.RSP <= uint64(u.End) {
				rsp := Hex(f.GPR.RSP)
				u.RSP = &rsp
			}
		}
	}
	for _, g := range im.Regions {
		if g.Kind != enclave.RegionGuard {
			continue
		}
		if stack && g.End() == reg.Offset || !stack && g.Offset == reg.End() {
			a := Hex(e.Base + g.Offset)
			if stack {
				a = Hex(e.Base + g.End() - sgx.PageSize)
			}
			u.Guard = &a
		}
	}
	cur := make([]byte, sgx.PageSize)
	first, last := int64(-1), int64(-1)
	for off := reg.Offset; off < reg.End(); off += sgx.PageSize {
		if _, err := st.ReadEnclave(cur, e.Base+off); err != nil {
			u.Error = err.Error()
			return u
		}
		init := make([]byte, sgx.PageSize)
		if p := im.Page(off); p != nil && p.Data != nil {
			init = p.Data
		}
		if bytes.Equal(cur, init) {
			continue
		}
		for i := range cur {
			if cur[i] != init[i] {
				if first < 0 {
					first = int64(off) + int64(i)
				}
				last = int64(off) + int64(i)
			}
		}
	}
	if stack && u.RSP != nil && uint64(*u.RSP) < uint64(u.End) && (first < 0 || uint64(*u.RSP)-e.Base < uint64(first)) {
		// The stack pointer is below every modified byte (the last pushes
		// stored what the pages held): it is the deepest use.
		first = int64(uint64(*u.RSP) - e.Base)
	}
	if first < 0 {
		return u
	}
	if stack {
		d := Hex(e.Base + uint64(first))
		u.Deepest, u.Used = &d, Hex(reg.End()-uint64(first))
		u.Exhausted = uint64(first) == reg.Offset
	} else {
		d := Hex(e.Base + uint64(last))
		u.Deepest, u.Used = &d, Hex(uint64(last)+1-reg.Offset)
		u.Exhausted = uint64(last) == reg.End()-1
	}
	return u
}
