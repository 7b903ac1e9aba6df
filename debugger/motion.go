package debugger

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// How the session moves a thread for the user: resuming from a breakpoint
// (its instruction run once with the breakpoint lifted), and the stepping
// commands, each a small state machine the resume loop feeds with the
// stops of its thread until it says where to stop. Every move is made of
// the backend's actions (ERESUME with or without a step, SingleStep) and
// internal breakpoints; nothing waits inside a command.

// lifted is a breakpoint taken out for one instruction: the thread on tcs
// runs it with TF, and its #DB puts the breakpoint back.
type lifted struct {
	addr uint64
	// user: the single step is the user's (stepi, or a motion's step):
	// its #DB stops or goes to the motion; else the debugger ERESUMEs
	// transparently.
	user bool
}

// motionKind names a stepping command.
type motionKind int

const (
	motionStepi motionKind = iota
	motionStep
	motionNext
	motionFinish
	motionUntil
	motionAdvance
	motionNexti
)

var motionNames = [...]string{"stepi", "step", "next", "finish", "until", "advance", "nexti"}

// motion is a stepping command in flight on one TCS.
type motion struct {
	kind   motionKind
	tcs    uint64
	count  int // instructions or lines left (stepi N, step N, next N)
	steps  int // single steps taken, bounded by maxMotionSteps
	file   string
	line   int
	fn     string
	fromPC uint64 // where the finish started (for the return value)
	// internal breakpoints of this motion (return address, until/advance
	// target), deleted when it ends.
	temps []*breakpoint
	// finishSP: finish stops at the return address when RSP is this (the
	// caller's CFA), so that a recursive call's return does not count.
	finishSP uint64
}

// maxMotionSteps bounds the instructions one step/next/until may run one by
// one before it gives up (an endless loop on one line).
const maxMotionSteps = 100000

// StopReason is why the session stopped, beyond the event.
type StopReason struct {
	Kind       string `json:"kind"` // breakpoint, watchpoint, step, finish, signal…
	Breakpoint int    `json:"breakpoint,omitempty"`
	Message    string `json:"message"`
}

// wantsStop decides at a stop of the resume loop. It may act on the stop
// (an ERESUME that goes on transparently) and then says false.
func (s *Session) wantsStop(st target.Stop) (bool, error) {
	ev := st.Event()
	s.reason = nil
	// A lifted breakpoint goes back when its thread leaves the enclave
	// (the #DB of its instruction, another AEX, an EEXIT); the ERESUME
	// that runs the instruction is a stop on the way.
	var l *lifted
	if ev.TCS != 0 && (ev.Kind == target.EvAEX || ev.Kind == target.EvEEXIT) {
		if l = s.lifted[ev.TCS]; l != nil {
			delete(s.lifted, ev.TCS)
			delete(s.breaks.lifted, l.addr)
			s.breaks.dirty = true
			if err := s.syncBreakpoints(st); err != nil {
				return true, err
			}
		}
	}
	ownStep := ev.Kind == target.EvAEX && ev.Valid && ev.Vector == sgx.VectorDB && (l != nil || s.stepping[ev.TCS])
	if ev.Kind == target.EvAEX || ev.Kind == target.EvEEXIT {
		delete(s.stepping, ev.TCS)
	}
	if l != nil && !l.user && ownStep {
		// The instruction under a breakpoint ran; on, as the user asked.
		// A breakpoint at the next instruction is not stepped over: the
		// thread runs into it and takes its hit, as on hardware.
		if p, err := s.placeOf(st); err == nil && s.breakpointAt(p.pc) {
			return false, raw(st).ERESUME(false)
		}
		return false, s.resumeFrom(st, false)
	}
	if m := s.motion; m != nil && m.tcs == ev.TCS {
		stop, err := s.motionStop(st, m, ownStep)
		if stop || err != nil {
			s.endMotion()
			s.own = ev.Kind == target.EvAEX && (ownStep || s.reason != nil && s.reason.Kind != "signal")
		}
		return stop, err
	}
	if ev.Kind == target.EvInterrupt || ev.Kind == target.EvAEX && !ev.Valid && ev.Delivery == (target.Delivery{}) {
		// The debugger's interrupt: the first stop is the user's, the other
		// threads' go on when the session does.
		s.mu.Lock()
		first := s.interrupt
		s.interrupt = false
		s.mu.Unlock()
		if first {
			s.reason = &StopReason{Kind: "interrupt", Message: "interrupted: " + s.interruptWhere(st)}
		}
		return first, nil
	}
	if ev.Kind == target.EvAEX && ev.Valid {
		if stop, done, err := s.breakpointHit(st); done || err != nil {
			s.own = stop
			return stop, err
		}
	}
	if ownStep {
		s.own = true
		s.reason = &StopReason{Kind: "step", Message: s.where(st)}
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy.Stops(ev), nil
}

// breakpointHit handles an AEX at a breakpoint or watchpoint of the
// debugger's: done says it was one (stop: the user sees it; else the
// thread already went on).
func (s *Session) breakpointHit(st target.Stop) (stop, done bool, err error) {
	ev := st.Event()
	var hit []*breakpoint
	switch {
	case ev.Vector == sgx.VectorBP && ev.ExitType == sgx.ExitSoftware && s.breaks.sites[ev.RIP] != nil:
		for _, bp := range s.breaks.bps {
			if bp.enabled && bp.kind == BreakSoftware && bp.at(st, ev.RIP) {
				hit = append(hit, bp)
			}
		}
	case ev.Vector == sgx.VectorDB && st.DR6()&0xf != 0:
		for i, bp := range s.breaks.owner {
			if bp != nil && st.DR6()&(1<<i) != 0 {
				hit = append(hit, bp)
			}
		}
	}
	if len(hit) == 0 {
		return false, false, nil
	}
	var msgs []string
	first := 0
	for _, bp := range hit {
		ok, msg, err := s.breakpointSays(st, bp)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("Error in the condition of breakpoint %d: %v", bp.id, err))
			ok = true
		}
		if ok {
			if first == 0 {
				first = bp.id
			}
			msgs = append(msgs, msg)
			if bp.temporary {
				s.breaks.remove(bp)
			}
		}
	}
	if len(msgs) == 0 {
		// Nobody stops here: on, over the breakpoint.
		return false, true, s.resumeFrom(st, false)
	}
	kind := "breakpoint"
	if hit[0].kind.isWatch() {
		kind = "watchpoint"
	}
	s.reason = &StopReason{Kind: kind, Breakpoint: first, Message: strings.Join(msgs, "\n")}
	return true, true, s.syncBreakpoints(st)
}

// at reports whether the code breakpoint bp has a location at addr in the
// enclave of the stop.
func (bp *breakpoint) at(st target.Stop, addr uint64) bool {
	e, ok := enclaveAt(st, addr)
	if !ok {
		return false
	}
	for _, l := range bp.locs {
		if l.mr == e.MRENCLAVE && e.Base+l.off == addr {
			return true
		}
	}
	return false
}

// breakpointSays applies bp's condition, hit count and ignore count at a
// hit, and for a watchpoint compares the value: whether it stops, and the
// line to tell.
func (s *Session) breakpointSays(st target.Stop, bp *breakpoint) (bool, string, error) {
	var watchMsg string
	if bp.kind.isWatch() {
		cur := make([]byte, bp.size)
		if _, err := st.ReadEnclave(cur, bp.addr); err != nil {
			return true, "", err
		}
		changed := !sameBytes(cur, bp.old)
		old := bp.old
		bp.old = cur
		switch {
		case bp.kind == WatchWrite && !changed, bp.kind == WatchRead && changed:
			return false, "", nil
		case changed:
			watchMsg = fmt.Sprintf("\n\nOld value = %s\nNew value = %s", s.watchValue(st, bp, old), s.watchValue(st, bp, cur))
		default:
			watchMsg = fmt.Sprintf("\n\nValue = %s", s.watchValue(st, bp, cur))
		}
	}
	if bp.cond != "" {
		v, err := s.evalAt(st, bp.cond)
		if err != nil {
			return true, "", err
		}
		if truth, err := v.True(); err != nil {
			return true, "", err
		} else if !truth {
			return false, "", nil
		}
	}
	bp.hits++
	if bp.ignore > 0 {
		bp.ignore--
		return false, "", nil
	}
	switch bp.kind {
	case WatchWrite, WatchRead, WatchAccess:
		name := map[BreakKind]string{WatchWrite: "Hardware watchpoint", WatchRead: "Hardware read watchpoint", WatchAccess: "Hardware access (read/write) watchpoint"}[bp.kind]
		return true, fmt.Sprintf("%s %d: %s%s\n%s", name, bp.id, bp.spec, watchMsg, s.where(st)), nil
	}
	kind := "Breakpoint"
	if bp.temporary {
		kind = "Temporary breakpoint"
	}
	return true, fmt.Sprintf("%s %d, %s", kind, bp.id, s.where(st)), nil
}

// watchValue formats a watched value: by its expression's type when the
// watch was set on an expression, else as a number.
func (s *Session) watchValue(st target.Stop, bp *breakpoint, b []byte) string {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if strings.HasPrefix(bp.spec, "*") {
		return fmt.Sprintf("%#x", v)
	}
	return fmt.Sprint(v)
}

// where describes the stop's place as gdb's stop line does: "FUNC () at
// FILE:LINE" with the line's text when the source is found.
func (s *Session) where(st target.Stop) string {
	p, err := s.placeOf(st)
	if err != nil {
		return string(st.Event().Kind)
	}
	pos, ok := p.position()
	if !ok {
		name, _ := s.symbolize(p.encl.Base, p.pc)
		if name == "" {
			name = "??"
		}
		return fmt.Sprintf("%#x in %s ()", p.pc, name)
	}
	out := fmt.Sprintf("%s () at %s:%d", pos.Function, pos.File, pos.Line)
	if pos.RowStart != p.pc {
		out = fmt.Sprintf("%#x in %s", p.pc, out)
	}
	if text, ok := s.sourceLine(p, pos); ok {
		out += fmt.Sprintf("\n%d\t%s", pos.Line, text)
	}
	return out
}

// interruptWhere says where an interrupt found the thread.
func (s *Session) interruptWhere(st target.Stop) string {
	ev := st.Event()
	if ev.Kind == target.EvAEX {
		return fmt.Sprintf("thread %d inside enclave %#x (TCS %#x, SSA frame %d, EXITINFO not valid): %s", ev.Tid, ev.Enclave, ev.TCS, ev.SSA, s.where(st))
	}
	return fmt.Sprintf("thread %d in host code at %#x", ev.Tid, ev.RIP)
}

// resumeFrom lets the thread of an AEX stop go on into its enclave
// (ERESUME), first running the instruction under a breakpoint at the SSA
// RIP with the breakpoint lifted. With step, the user's single step.
func (s *Session) resumeFrom(st target.Stop, step bool) error {
	ev := st.Event()
	p, err := s.placeOf(st)
	if err != nil {
		return err
	}
	if s.breakpointAt(p.pc) {
		if err := s.lift(st, p.pc); err != nil {
			return err
		}
		s.lifted[ev.TCS] = &lifted{addr: p.pc, user: step}
		if step {
			s.stepping[ev.TCS] = true
		}
		return raw(st).ERESUME(true)
	}
	if step {
		s.stepping[ev.TCS] = true
	}
	if ev.Kind == target.EvAEX {
		return raw(st).ERESUME(step)
	}
	if step {
		return raw(st).SingleStep()
	}
	return raw(st).Continue()
}

// breakpointAt reports whether an INT3 or a hardware breakpoint sits at
// addr.
func (s *Session) breakpointAt(addr uint64) bool {
	if s.breaks.sites[addr] != nil {
		return true
	}
	for i, sl := range s.breaks.slots {
		if sl.Enabled && sl.Kind == target.HWExecute && sl.Addr == addr && s.breaks.owner[i] != nil {
			return true
		}
	}
	return false
}

// lift takes the breakpoints at addr out until the next sync: the INT3's
// original byte back, an execution slot off.
func (s *Session) lift(st target.Stop, addr uint64) error {
	t := s.breaks
	t.lifted[addr] = true
	if site := t.sites[addr]; site != nil {
		if _, err := raw(st).WriteEnclave([]byte{site.orig}, addr); err != nil {
			return fmt.Errorf("lift the breakpoint at %#x: %w", addr, err)
		}
		delete(t.sites, addr)
	}
	slots := t.slots
	changed := false
	for i, sl := range slots {
		if sl.Enabled && sl.Kind == target.HWExecute && sl.Addr == addr {
			slots[i].Enabled, changed = false, true
		}
	}
	if changed {
		dr, ok := s.p.(target.DebugRegisters)
		if !ok {
			return fmt.Errorf("this backend has no debug registers")
		}
		if err := dr.SetDebugRegisters(slots); err != nil {
			return err
		}
		t.slots = slots
	}
	t.dirty = true
	return nil
}

// startMotion begins a stepping command at the current stop.
func (s *Session) startMotion(st target.Stop, m *motion) (Result, error) {
	p, err := s.placeOf(st)
	if err != nil {
		return nil, err
	}
	m.tcs = p.tcs
	if pos, ok := p.position(); ok {
		m.file, m.line, m.fn = pos.File, pos.Line, pos.Function
	}
	m.fromPC = p.pc
	switch m.kind {
	case motionFinish:
		if err := s.setReturnBreak(st, p, m); err != nil {
			return nil, err
		}
	case motionUntil, motionAdvance:
		if len(m.temps) > 0 || m.kind == motionAdvance {
			// until/advance LOCATION: also stop when this frame returns.
			_ = s.setReturnBreak(st, p, m)
		}
	}
	s.motion = m
	if err := s.syncBreakpoints(st); err != nil {
		s.endMotion()
		return nil, err
	}
	if err := s.motionResume(st, m, p); err != nil {
		s.endMotion()
		return nil, err
	}
	msg := fmt.Sprintf("%s from %#x", motionNames[m.kind], p.pc)
	if m.fn != "" {
		msg += fmt.Sprintf(" in %s (%s:%d)", m.fn, m.file, m.line)
	}
	return &ActionResult{Action: motionNames[m.kind], Message: msg}, nil
}

// motionResume makes the motion's next move from place p: a single step,
// or a run to its internal breakpoints.
func (s *Session) motionResume(st target.Stop, m *motion, p *place) error {
	switch m.kind {
	case motionFinish, motionAdvance:
		return s.resumeFrom(st, false)
	case motionUntil:
		if len(m.temps) > 0 && m.count == 0 {
			return s.resumeFrom(st, false)
		}
	}
	if m.kind == motionNext || m.kind == motionUntil || m.kind == motionNexti {
		// next/until: over calls.
		if ret, ok := s.callReturn(st, p); ok {
			bp := &breakpoint{kind: BreakSoftware, internal: true, tcs: m.tcs, frameSP: p.rsp(),
				locs: []breakLoc{{mr: p.encl.MRENCLAVE, off: ret - p.encl.Base}}}
			s.breaks.add(bp)
			m.temps = append(m.temps, bp)
			if err := s.syncBreakpoints(st); err != nil {
				return err
			}
			return s.resumeFrom(st, false)
		}
	}
	m.steps++
	return s.resumeFrom(st, true)
}

// callReturn reports whether the instruction at the place is a CALL, and
// the address after it.
func (s *Session) callReturn(st target.Stop, p *place) (uint64, bool) {
	buf := make([]byte, 16)
	n, _ := st.ReadEnclave(buf, p.pc)
	if n == 0 {
		return 0, false
	}
	inst, err := x86asm.Decode(buf[:n], 64)
	if err != nil || inst.Op != x86asm.CALL {
		return 0, false
	}
	return p.pc + uint64(inst.Len), true
}

// setReturnBreak puts an internal breakpoint at the frame's return
// address, for finish (and until/advance). In the outermost enclave frame
// there is none: the motion then ends at the EEXIT.
func (s *Session) setReturnBreak(st target.Stop, p *place, m *motion) error {
	prog, err := p.program()
	if err != nil {
		return err
	}
	caller, err := prog.CallerFrame(p.encl.Base, p.innermost(), readFunc(st))
	if err != nil {
		return fmt.Errorf("finish: no caller frame: %w", err)
	}
	if caller == nil || caller.PC < p.encl.Base || caller.PC >= p.encl.Base+p.encl.Size {
		if m.kind == motionFinish {
			return errorf(ErrNoFrame, "\"finish\" not meaningful in the outermost frame")
		}
		return nil
	}
	sp, _ := caller.Regs.Get(dwRSP)
	bp := &breakpoint{kind: BreakSoftware, internal: true, tcs: m.tcs, frameSP: sp,
		locs: []breakLoc{{mr: p.encl.MRENCLAVE, off: caller.PC - p.encl.Base}}}
	s.breaks.add(bp)
	m.temps = append(m.temps, bp)
	m.finishSP = sp
	return nil
}

// motionStop feeds a stop of the motion's thread to the motion.
func (s *Session) motionStop(st target.Stop, m *motion, ownStep bool) (bool, error) {
	ev := st.Event()
	switch {
	case ev.Kind == target.EvEEXIT && len(m.temps) > 0:
		// Running to a return address or a location: an EEXIT on the way
		// is an OCALL (its EENTER brings the thread back).
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.policy.Stops(ev), nil
	case ev.Kind == target.EvEEXIT:
		s.reason = &StopReason{Kind: "step", Message: fmt.Sprintf("%s: the enclave left through EEXIT (TCS %#x)", motionNames[m.kind], ev.TCS)}
		return true, nil
	case ev.Kind != target.EvAEX:
		// A transition on the way (an OCALL's EENTER): it goes on, unless
		// the policy stops there.
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.policy.Stops(ev), nil
	case !ev.Valid || ev.Vector != sgx.VectorDB && ev.Vector != sgx.VectorBP:
		// A fault or an interrupt while stepping: stop at its AEX.
		s.reason = &StopReason{Kind: "signal", Message: fmt.Sprintf("%s interrupted: %s %s", motionNames[m.kind], ev.VectorName(), ev.Vector.Name())}
		return true, nil
	}
	p, err := s.placeOf(st)
	if err != nil {
		return true, err
	}
	// One of the motion's internal breakpoints?
	if ev.Vector == sgx.VectorBP && s.breaks.sites[ev.RIP] != nil {
		for _, bp := range m.temps {
			if !bp.at(st, ev.RIP) {
				continue
			}
			if bp.frameSP != 0 && p.rsp() != bp.frameSP {
				// A deeper (recursive) activation: on.
				return false, s.resumeFrom(st, false)
			}
			s.breaks.remove(bp)
			m.temps = removeBP(m.temps, bp)
			return s.motionArrived(st, m, p)
		}
		// A user breakpoint on the way stops the motion.
		if stop, done, err := s.breakpointHit(st); done || err != nil {
			return stop, err
		}
	}
	if !ownStep {
		if stop, done, err := s.breakpointHit(st); done || err != nil {
			return stop, err
		}
		s.reason = &StopReason{Kind: "signal", Message: fmt.Sprintf("%s interrupted: %s", motionNames[m.kind], ev.VectorName())}
		return true, nil
	}
	return s.motionStepped(st, m, p)
}

// motionArrived: the motion reached one of its internal breakpoints.
func (s *Session) motionArrived(st target.Stop, m *motion, p *place) (bool, error) {
	switch m.kind {
	case motionFinish:
		msg := fmt.Sprintf("Run till exit from %s\n%s", m.describeStart(), s.where(st))
		if prog, err := p.program(); err == nil {
			rax, _ := p.regs.Get(dwRAX)
			if v, ok := prog.ReturnValue(p.encl.Base, m.fromPC, rax, readFunc(st)); ok {
				msg += "\nValue returned is " + v
				s.returned = v
			}
		}
		s.reason = &StopReason{Kind: "finish", Message: msg}
		return true, nil
	case motionAdvance, motionUntil:
		s.reason = &StopReason{Kind: "step", Message: s.where(st)}
		return true, nil
	}
	// next: back from a call; go on stepping the line (nexti: that was
	// its instruction).
	return s.motionStepped(st, m, p)
}

func (m *motion) describeStart() string {
	if m.fn == "" {
		return fmt.Sprintf("%#x", m.fromPC)
	}
	return fmt.Sprintf("#0  %s () at %s:%d", m.fn, m.file, m.line)
}

// motionStepped: one instruction of the motion ran (or a call returned).
func (s *Session) motionStepped(st target.Stop, m *motion, p *place) (bool, error) {
	if m.kind == motionStepi || m.kind == motionNexti {
		if m.count--; m.count > 0 {
			return false, s.motionResume(st, m, p)
		}
		s.reason = &StopReason{Kind: "step", Message: s.where(st)}
		return true, nil
	}
	pos, ok := p.position()
	switch {
	case !ok || pos.Function == "":
		// Code without line information (the runtime's assembly): out of
		// it to the caller, as gdb's step does.
		if err := s.setReturnBreak(st, p, m); err != nil || len(m.temps) == 0 {
			s.reason = &StopReason{Kind: "step", Message: s.where(st)}
			return true, nil
		}
		return false, s.resumeFrom(st, false)
	case m.kind == motionStep && pos.Function != m.fn && p.pc == pos.FuncEntry:
		// Stepped into a function: to the end of its prologue.
		if prog, err := p.program(); err == nil {
			if after := prog.AfterPrologue(p.encl.Base, p.pc); after != 0 && after != p.pc {
				bp := &breakpoint{kind: BreakSoftware, internal: true, tcs: m.tcs,
					locs: []breakLoc{{mr: p.encl.MRENCLAVE, off: after - p.encl.Base}}}
				s.breaks.add(bp)
				m.temps = append(m.temps, bp)
				m.kind = motionAdvance
				if err := s.syncBreakpoints(st); err != nil {
					return true, err
				}
				return false, s.resumeFrom(st, false)
			}
		}
		return s.lineDone(st, m)
	case pos.Function != m.fn:
		// Returned into the caller mid-statement: finish its line.
		m.fn, m.file, m.line = pos.Function, pos.File, pos.Line
	case pos.StmtStart && p.pc == pos.RowStart && (pos.Line != m.line || pos.File != m.file):
		if m.kind == motionUntil && pos.Line < m.line && pos.File == m.file {
			break // until: not backwards (a loop's jump back)
		}
		return s.lineDone(st, m)
	}
	if m.steps >= maxMotionSteps {
		s.reason = &StopReason{Kind: "step", Message: fmt.Sprintf("%s: gave up after %d instructions on one line\n%s", motionNames[m.kind], m.steps, s.where(st))}
		return true, nil
	}
	return false, s.motionResume(st, m, p)
}

// lineDone ends a line of step/next/until (or goes on for a count).
func (s *Session) lineDone(st target.Stop, m *motion) (bool, error) {
	if m.count--; m.count > 0 {
		p, err := s.placeOf(st)
		if err != nil {
			return true, err
		}
		if pos, ok := p.position(); ok {
			m.file, m.line, m.fn = pos.File, pos.Line, pos.Function
		}
		return false, s.motionResume(st, m, p)
	}
	s.reason = &StopReason{Kind: "step", Message: s.where(st)}
	return true, nil
}

// endMotion drops the motion and its internal breakpoints.
func (s *Session) endMotion() {
	if s.motion == nil {
		return
	}
	for _, bp := range s.motion.temps {
		s.breaks.remove(bp)
	}
	s.motion = nil
}

func removeBP(list []*breakpoint, bp *breakpoint) []*breakpoint {
	for i, b := range list {
		if b == bp {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// evalAt evaluates a C expression in the innermost frame of a stop.
func (s *Session) evalAt(st target.Stop, expr string) (*dwarfx.Value, error) {
	p, err := s.placeOf(st)
	if err != nil {
		return nil, err
	}
	prog, err := p.program()
	if err != nil {
		return nil, err
	}
	return prog.Scope(p.encl.Base, p.innermost(), readFunc(st)).Eval(expr)
}
