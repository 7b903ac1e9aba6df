package debugger

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// Instructions x86asm does not know, decoded by their bytes.
var specialInsns = []struct {
	bytes []byte
	text  string
}{
	{[]byte{0x0f, 0x01, 0xd7}, "enclu"},
	{[]byte{0x0f, 0x01, 0xcf}, "encls"},
	{[]byte{0x0f, 0x01, 0xc0}, "enclv"},
	{[]byte{0xf3, 0x0f, 0x1e, 0xfa}, "endbr64"},
	{[]byte{0xf3, 0x0f, 0x1e, 0xfb}, "endbr32"},
}

// decodeInsn decodes one instruction: its length and AT&T text (as
// objdump prints it).
func decodeInsn(b []byte, pc uint64, sym x86asm.SymLookup) (int, string, error) {
	for _, sp := range specialInsns {
		if len(b) >= len(sp.bytes) && string(b[:len(sp.bytes)]) == string(sp.bytes) {
			return len(sp.bytes), sp.text, nil
		}
	}
	inst, err := x86asm.Decode(b, 64)
	if err != nil {
		return 0, "", err
	}
	return inst.Len, x86asm.GNUSyntax(inst, pc, sym), nil
}

// DisasLine is one disassembled instruction.
type DisasLine struct {
	Addr   Hex    `json:"addr"`
	Bytes  string `json:"bytes"`
	Text   string `json:"text"`
	Symbol string `json:"symbol,omitempty"`
	Source string `json:"source,omitempty"`
	// Line is the text of the source line, when its file is found.
	Line    string `json:"source_text,omitempty"`
	Current bool   `json:"current"` // at the newest SSA frame's RIP
}

// DisasResult is disassembly around an address.
type DisasResult struct {
	Lines []DisasLine `json:"lines"`
}

// Text renders objdump-like lines; the instruction at the newest SSA
// frame's RIP (the current one) is marked with "=>" and each new source
// line (its location, and its text when the file is found) is printed
// above its instructions.
func (r *DisasResult) Text() string {
	var b strings.Builder
	src := ""
	for _, l := range r.Lines {
		if l.Source != "" && l.Source != src {
			fmt.Fprintf(&b, "   %s", l.Source)
			if t := strings.TrimSpace(l.Line); t != "" {
				fmt.Fprintf(&b, "  %s", t)
			}
			b.WriteString("\n")
			src = l.Source
		}
		mark := "  "
		if l.Current {
			mark = "=>"
		}
		sym := ""
		if l.Symbol != "" {
			sym = " <" + l.Symbol + ">"
		}
		fmt.Fprintf(&b, "%s %#x%s:  %-24s %s\n", mark, uint64(l.Addr), sym, l.Bytes, l.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}

// disassemble decodes n instructions from addr (and up to back before it,
// found by decoding forward from its function's start), reading enclave
// memory through EDBGRD.
func (s *Session) disassemble(st target.Stop, base, addr uint64, back, n int) (*DisasResult, error) {
	start := addr
	if im := s.Image(base); im != nil && back > 0 {
		if sym, off, ok := im.SymbolAt(addr - base); ok && off < 4096 {
			// Decode the function from its start to find the boundaries
			// before addr.
			var starts []uint64
			pc := base + sym.Offset
			buf := make([]byte, off+16)
			if _, err := st.ReadEnclave(buf, pc); err == nil {
				for pc < addr {
					l, _, err := decodeInsn(buf[pc-base-sym.Offset:], pc, nil)
					if err != nil || l == 0 {
						break
					}
					starts = append(starts, pc)
					pc += uint64(l)
				}
				if pc == addr && len(starts) > 0 {
					start = starts[max(0, len(starts)-back)]
				}
			}
		}
	}
	buf := make([]byte, int(addr-start)+n*15)
	got, err := st.ReadEnclave(buf, start)
	if got == 0 {
		return nil, fmt.Errorf("read code at %#x: %w", start, err)
	}
	buf = buf[:got]
	symLookup := func(a uint64) (string, uint64) {
		im := s.Image(base)
		if im == nil || a < base {
			return "", 0
		}
		if sym, _, ok := im.SymbolAt(a - base); ok {
			return sym.Name, base + sym.Offset
		}
		return "", 0
	}
	cur, atRIP := s.ssaRIP(st)
	r := &DisasResult{}
	for pc, after := start, 0; pc-start < uint64(len(buf)) && after < n; {
		if pc >= addr {
			after++
		}
		b := buf[pc-start:]
		l, text, err := decodeInsn(b, pc, symLookup)
		if err != nil {
			l, text = 1, "(bad)"
		}
		sym, src := s.symbolize(base, pc)
		line := ""
		if src != "" {
			line = s.sourceTextAt(base, pc)
		}
		r.Lines = append(r.Lines, DisasLine{Addr: Hex(pc), Bytes: fmt.Sprintf("% x", b[:min(l, len(b))]), Text: text,
			Symbol: sym, Source: src, Line: line, Current: atRIP && pc == cur})
		pc += uint64(l)
	}
	return r, nil
}

func (s *Session) viewDisas(st target.Stop, addr uint64, n int) (Result, error) {
	if addr == 0 {
		// The selected frame's PC (the SSA RIP at the innermost frame of
		// an AEX, the thread's RIP at an EENTER or ERESUME stop).
		f, err := s.selectedFrame(st)
		if err != nil {
			return nil, err
		}
		return s.disassemble(st, f.place.encl.Base, f.PC, 3, n)
	}
	e, ok := enclaveAt(st, addr)
	if !ok {
		return nil, fmt.Errorf("disas %#x: %w", addr, target.ErrNotEnclave)
	}
	return s.disassemble(st, e.Base, addr, 3, n)
}

// sourceTextAt is the text of the source line of pc in the enclave at
// base, or "" when the enclave has no image with line information or the
// file is not found.
func (s *Session) sourceTextAt(base, pc uint64) string {
	c := s.matchedAt(base)
	if c == nil {
		return ""
	}
	prog, err := c.program()
	if err != nil {
		return ""
	}
	pos, ok := prog.PositionAt(base, pc)
	im := s.Image(base)
	if !ok || im == nil {
		return ""
	}
	// The line symbolize names (the image's line table), in the file and
	// compilation directory DWARF gives.
	_, line, err := im.LineAt(pc - base)
	if err != nil {
		return ""
	}
	pos.Line = line
	text, _ := s.sourceLine(nil, pos)
	return text
}

type edbgrd struct{ st target.Stop }

func (m edbgrd) ReadMemory(buf []byte, addr uint64) (int, error) { return m.st.ReadEnclave(buf, addr) }

// ssaRIP is the RIP of the stopped TCS's newest SSA frame, where "=>"
// points; false when the stop has no SSA frame in use.
func (s *Session) ssaRIP(st target.Stop) (uint64, bool) {
	ts, err := s.stopTCS(st)
	if err != nil {
		return 0, false
	}
	f, err := ts.newest()
	if err != nil {
		return 0, false
	}
	return f.GPR.RIP, true
}
