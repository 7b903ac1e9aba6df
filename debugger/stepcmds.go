package debugger

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// cmdMotion starts a stepping command at the current stop: stepi, nexti,
// step, next (with a count), finish, until and advance (with a location).
func cmdMotion(kind motionKind) func(*Session, []string) (Result, error) {
	return func(s *Session, args []string) (Result, error) {
		name := motionNames[kind]
		m := &motion{kind: kind, count: 1}
		switch kind {
		case motionStepi, motionNexti, motionStep, motionNext:
			if len(args) > 1 {
				return nil, usage(name + " [N]")
			}
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return nil, errorf(ErrUsage, "%s: count %q", name, args[0])
				}
				m.count = n
			}
		case motionFinish:
			if len(args) > 0 {
				return nil, usage("finish")
			}
		case motionAdvance:
			if len(args) == 0 {
				return nil, usage("advance LOCATION")
			}
		}
		return s.atStop(func(st target.Stop) (Result, error) {
			if (kind == motionUntil || kind == motionAdvance) && len(args) > 0 {
				p, err := s.placeOf(st)
				if err != nil {
					return nil, err
				}
				pos, _ := p.position()
				spec := strings.Join(args, " ")
				locs, err := s.resolveCode(spec, pos.File)
				if err != nil {
					return nil, err
				}
				var mine []breakLoc
				for _, l := range locs {
					if l.mr == p.encl.MRENCLAVE {
						mine = append(mine, l)
					}
				}
				if len(mine) == 0 {
					return nil, errorf(ErrNoSymbol, "%s: %s is not in this enclave's image", name, spec)
				}
				bp := &breakpoint{kind: BreakSoftware, internal: true, tcs: p.tcs, locs: mine}
				s.breaks.add(bp)
				m.temps = append(m.temps, bp)
				m.count = 0
			}
			if s.answer != nil {
				return nil, fmt.Errorf("%s: the handler eenter-handler ran has answered for this AEX: eresume or continue", name)
			}
			return s.startMotion(st, m)
		})
	}
}
