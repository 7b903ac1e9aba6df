package debugger

import (
	"errors"

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
