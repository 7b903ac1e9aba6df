package debugger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
)

// sourceLine returns the text of the place's source line, when the file is
// found (through its unit's compilation directory and the source
// directories). A missing file is said once, in the first view that wants
// it; after that its lines are simply absent.
func (s *Session) sourceLine(p *place, pos dwarfx.Position) (string, bool) {
	lines, err := s.sources.Lines(pos.File, pos.CompDir, pos.Line, pos.Line)
	if err != nil || len(lines) == 0 {
		var ms *dwarfx.MissingSourceError
		if errors.As(err, &ms) && !ms.Repeated {
			s.noteMissing(ms)
		}
		return "", false
	}
	return lines[0].Text, true
}

// noteMissing keeps a missing source file's message for the next result
// that can show it.
func (s *Session) noteMissing(err error) { s.missing = append(s.missing, err.Error()) }

// ListResult is source text.
type ListResult struct {
	File  string       `json:"file"`
	Lines []SourceText `json:"lines"`
}

// SourceText is one numbered source line.
type SourceText struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

// Text renders gdb's "N\ttext" lines.
func (r *ListResult) Text() string {
	var b strings.Builder
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "%d\t%s\n", l.N, l.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}

// cmdList lists source: around the selected frame's line, at LOCATION
// (FUNCTION, FILE:LINE, LINE, *ADDR, FIRST,LAST), or the next ten lines
// after the last list.
func cmdList(s *Session, args []string) (Result, error) {
	spec := strings.TrimSpace(strings.Join(args, " "))
	var prog *dwarfx.Program
	var base uint64
	defaultFile := ""
	var here *dwarfx.Position
	if st := s.cur; st != nil && !st.Resumed() {
		if f, err := s.selectedFrame(st); err == nil {
			if p, err := f.place.program(); err == nil {
				prog, base = p, f.place.encl.Base
				if pos, ok := p.PositionAt(base, f.PC); ok {
					defaultFile, here = pos.File, &pos
				}
			}
		}
	}
	if prog == nil {
		// Before a stop, or outside an enclave: the first image that knows
		// the location.
		for _, c := range s.cands {
			if p, err := c.program(); err == nil {
				prog = p
				break
			}
		}
	}
	if prog == nil {
		return nil, errorf(ErrNoImage, "list: no enclave image with debug information")
	}
	var file, compDir string
	var from, to int
	switch {
	case spec == "" && s.listNext != nil:
		file, compDir, from = s.listNext.file, s.listNext.compDir, s.listNext.line
		to = from + 9
	case spec == "" && here != nil:
		file, compDir = here.File, here.CompDir
		from = max(1, here.Line-5)
		to = from + 9
	case spec == "":
		return nil, usage("list [LOCATION | FIRST,LAST] (no stop to list around)")
	default:
		r, err := prog.List(spec, base, defaultFile)
		if err != nil {
			return nil, locationError(err)
		}
		file, compDir, from, to = r.File, r.CompDir, r.From, r.To
	}
	lines, err := s.sources.Lines(file, compDir, from, to)
	if err != nil {
		return nil, err
	}
	out := &ListResult{File: file, Lines: []SourceText{}}
	for _, l := range lines {
		out.Lines = append(out.Lines, SourceText{N: l.N, Text: l.Text})
	}
	if len(lines) > 0 {
		s.listNext = &listPos{file: file, compDir: compDir, line: lines[len(lines)-1].N + 1}
	}
	return out, nil
}

// listPos is where a bare list goes on.
type listPos struct {
	file, compDir string
	line          int
}

// locationError classifies a location the images do not know.
func locationError(err error) error {
	var nsf *dwarfx.NoSuchFileError
	var nce *dwarfx.NoCodeError
	var bad *dwarfx.BadLocationError
	switch {
	case errors.As(err, &nsf), errors.As(err, &nce):
		return &classed{msg: err.Error(), class: ErrNoSymbol}
	case errors.As(err, &bad):
		return &classed{msg: err.Error(), class: ErrUsage}
	}
	return err
}

func cmdDirectory(s *Session, args []string) (Result, error) {
	for _, d := range args {
		s.sources.AddDir(d)
	}
	return &ActionResult{Action: "directory", Message: "Source directories searched: " + strings.Join(s.sources.Dirs(), ":")}, nil
}
