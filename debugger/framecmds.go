package debugger

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// BacktraceResult is the stopped thread's stack: enclave frames, then the
// host's, with the boundaries between them.
type BacktraceResult struct {
	Frames   []BTFrame `json:"frames"`
	Selected int       `json:"selected"`
	// Truncated: the unwinder stopped at MaxBacktrace frames; the stack
	// goes on.
	Truncated bool `json:"truncated"`
}

// BTFrame is one stack frame.
type BTFrame struct {
	Index  int    `json:"index"`
	PC     Hex    `json:"pc"`
	Symbol string `json:"symbol,omitempty"`
	Offset Hex    `json:"offset"`
	Source string `json:"source,omitempty"`
	// Path is where the source file was found (through its unit's
	// compilation directory and the source directories), or "".
	Path string `json:"path,omitempty"`
	// Line is the text of the frame's source line, when its file is found.
	Line     string `json:"source_text,omitempty"`
	Host     bool   `json:"host,omitempty"`
	Module   string `json:"module,omitempty"`
	Boundary string `json:"boundary,omitempty"`
}

// Text renders gdb-like "#N  0x… in sym+off at file:line" lines; the
// boundary lines stand between enclave and host frames.
func (r *BacktraceResult) Text() string {
	var b strings.Builder
	for _, f := range r.Frames {
		if f.Boundary != "" {
			b.WriteString(f.Boundary + "\n")
		}
		fmt.Fprintf(&b, "#%-2d %#x", f.Index, uint64(f.PC))
		if f.Symbol != "" {
			fmt.Fprintf(&b, " in %s+%#x", f.Symbol, uint64(f.Offset))
		}
		switch {
		case f.Source != "" && f.Line != "":
			fmt.Fprintf(&b, " at %s: %s", f.Source, strings.TrimSpace(f.Line))
		case f.Source != "":
			fmt.Fprintf(&b, " at %s", f.Source)
		case f.Module != "":
			fmt.Fprintf(&b, " from %s", f.Module)
		}
		b.WriteString("\n")
	}
	if r.Truncated {
		fmt.Fprintf(&b, "(more frames: bt stops at %d)\n", MaxBacktrace)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Session) viewBacktrace(st target.Stop) (Result, error) {
	frames, limited, err := s.stack(st)
	if err != nil {
		return nil, err
	}
	r := &BacktraceResult{Truncated: limited, Selected: s.frameSel}
	for _, f := range frames {
		line, path := "", ""
		if f.place != nil && !f.Host {
			if pos, ok := f.place.position(); ok && pos.Line == f.Line {
				line, _ = s.sourceLine(f.place, pos)
			}
		}
		if f.File != "" {
			path, _ = s.sources.Path(f.File, f.CompDir)
		}
		r.Frames = append(r.Frames, BTFrame{Index: f.Index, PC: Hex(f.PC), Symbol: f.Function, Offset: Hex(f.Offset),
			Source: f.source(), Path: path, Line: line, Host: f.Host, Module: f.Module, Boundary: f.Boundary})
	}
	return r, nil
}

// selectedFrame is the frame the views follow (frame, up, down), an
// enclave frame.
func (s *Session) selectedFrame(st target.Stop) (*stackFrame, error) {
	if s.frameSel == 0 {
		p, err := s.placeOf(st)
		if err != nil {
			return nil, err
		}
		f := &stackFrame{PC: p.pc, place: p, dw: p.innermost()}
		if pos, ok := p.position(); ok {
			f.Function, f.File, f.Line = pos.Function, pos.File, pos.Line
		}
		return f, nil
	}
	frames, _, err := s.stack(st)
	if err != nil {
		return nil, err
	}
	if s.frameSel >= len(frames) {
		return nil, errorf(ErrNoFrame, "no frame %d (the stack has %d)", s.frameSel, len(frames))
	}
	f := frames[s.frameSel]
	if f.Host {
		return nil, errorf(ErrNoFrame, "frame %d is the host's (%#x): its variables are not the enclave's", f.Index, f.PC)
	}
	// Link the frames for entry values.
	for i := 0; i+1 < len(frames) && !frames[i+1].Host; i++ {
		frames[i].dw.Caller = frames[i+1].dw
	}
	return f, nil
}

// FrameResult describes the selected frame.
type FrameResult struct {
	Index    int    `json:"index"`
	PC       Hex    `json:"pc"`
	Function string `json:"function,omitempty"`
	Source   string `json:"source,omitempty"`
	Line     string `json:"source_text,omitempty"`
	Host     bool   `json:"host,omitempty"`
	// info frame
	CFA      Hex            `json:"cfa,omitempty"`
	Caller   Hex            `json:"caller,omitempty"`
	Saved    map[string]Hex `json:"saved,omitempty"`
	detailed bool
}

// Text renders gdb's frame line (and info frame's details).
func (r *FrameResult) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%-2d %#x", r.Index, uint64(r.PC))
	if r.Function != "" {
		fmt.Fprintf(&b, " in %s ()", r.Function)
	}
	if r.Source != "" {
		fmt.Fprintf(&b, " at %s", r.Source)
	}
	if r.Line != "" {
		line := r.Source[strings.LastIndex(r.Source, ":")+1:]
		fmt.Fprintf(&b, "\n%s\t%s", line, r.Line)
	}
	if r.detailed {
		fmt.Fprintf(&b, "\n cfa %#x, caller's pc %#x", uint64(r.CFA), uint64(r.Caller))
		if len(r.Saved) > 0 {
			var names []string
			for n, v := range r.Saved {
				names = append(names, fmt.Sprintf("%s at %#x", n, uint64(v)))
			}
			sortStrings(names)
			b.WriteString("\n Saved registers:\n  " + strings.Join(names, ", "))
		}
	}
	return b.String()
}

func (s *Session) viewFrame(st target.Stop, detailed bool) (Result, error) {
	frames, _, err := s.stack(st)
	if err != nil {
		return nil, err
	}
	if s.frameSel >= len(frames) {
		s.frameSel = len(frames) - 1
	}
	f := frames[s.frameSel]
	r := &FrameResult{Index: f.Index, PC: Hex(f.PC), Function: f.Function, Source: f.source(), Host: f.Host, detailed: detailed}
	if f.place != nil {
		if pos, ok := f.place.position(); ok && pos.Line == f.Line {
			r.Line, _ = s.sourceLine(f.place, pos)
		}
	}
	if detailed && f.dw != nil {
		r.CFA = Hex(f.dw.CFA)
		if s.frameSel+1 < len(frames) {
			r.Caller = Hex(frames[s.frameSel+1].PC)
		}
		r.Saved = map[string]Hex{}
		// The CFA-relative slots the CFI names: the return address at
		// CFA-8, and RBP/RBX where the caller's frame says they were.
		if f.dw.CFA != 0 {
			r.Saved["rip"] = Hex(f.dw.CFA - 8)
		}
	}
	return r, nil
}

func cmdFrame(s *Session, args []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		if len(args) > 0 {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 0 {
				return nil, errorf(ErrUsage, "frame: %q is not a frame number", args[0])
			}
			if err := s.selectFrame(st, n); err != nil {
				return nil, err
			}
		}
		return s.viewFrame(st, false)
	})
}

func cmdUpDown(dir int) func(*Session, []string) (Result, error) {
	return func(s *Session, args []string) (Result, error) {
		n := 1
		if len(args) > 0 {
			v, err := strconv.Atoi(args[0])
			if err != nil || v < 0 {
				return nil, errorf(ErrUsage, "%q is not a count", args[0])
			}
			n = v
		}
		return s.atStop(func(st target.Stop) (Result, error) {
			to := s.frameSel + dir*n
			if to < 0 {
				return nil, errorf(ErrNoFrame, "Bottom (innermost) frame selected; you cannot go down.")
			}
			if err := s.selectFrame(st, to); err != nil {
				return nil, err
			}
			return s.viewFrame(st, false)
		})
	}
}

func cmdInfoFrame(s *Session) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) { return s.viewFrame(st, true) })
}

// selectFrame makes frame n the one the views follow.
func (s *Session) selectFrame(st target.Stop, n int) error {
	frames, _, err := s.stack(st)
	if err != nil {
		return err
	}
	if n >= len(frames) {
		return errorf(ErrNoFrame, "Initial frame selected; you cannot go up (the stack has %d frames).", len(frames))
	}
	s.frameSel = n
	return nil
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
