package debugger

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// BreakKind is what a breakpoint is made of.
type BreakKind int

// Kinds of breakpoints.
const (
	BreakSoftware BreakKind = iota // INT3 written through EDBGWR
	BreakHardware                  // a DR0–DR3 instruction breakpoint
	WatchWrite                     // a DR0–DR3 write watchpoint
	WatchRead                      // an access watchpoint reported for reads
	WatchAccess                    // an access watchpoint
)

var breakKindNames = [...]string{"breakpoint", "hw breakpoint", "hw watchpoint", "read watchpoint", "acc watchpoint"}

func (k BreakKind) String() string {
	if int(k) < len(breakKindNames) {
		return breakKindNames[k]
	}
	return fmt.Sprintf("BreakKind(%d)", int(k))
}

// MarshalText names the kind in JSON.
func (k BreakKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a name MarshalText wrote.
func (k *BreakKind) UnmarshalText(b []byte) error {
	for i, n := range breakKindNames {
		if n == string(b) {
			*k = BreakKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown breakpoint kind %q", b)
}

func (k BreakKind) isWatch() bool { return k >= WatchWrite }

// breakLoc is where a code breakpoint goes in every enclave of one image.
type breakLoc struct {
	mr       [32]byte // the image's MRENCLAVE
	off      uint64   // from the enclave base
	function string
	file     string
	line     int
}

// breakpoint is one entry of the table.
type breakpoint struct {
	id        int
	kind      BreakKind
	spec      string // as typed
	temporary bool
	enabled   bool
	cond      string
	ignore    int
	hits      int
	internal  bool // the debugger's own (finish, next, until): not listed

	locs []breakLoc // code breakpoints

	// Watchpoints: the watched range (absolute) and its last value.
	addr uint64
	size int
	old  []byte
	// internal breakpoints stop only in this frame (its CFA at the hit: the
	// stack pointer after the return), 0 for any.
	frameSP uint64
	tcs     uint64 // internal: only this TCS
}

// site is an INT3 in an enclave, with the byte it replaced.
type site struct {
	addr uint64
	orig byte
}

// breakTable is the session's breakpoints and what is inserted.
type breakTable struct {
	next  int
	bps   []*breakpoint
	sites map[uint64]*site // inserted INT3s by address
	slots [target.NumHWSlots]target.HWSlot
	owner [target.NumHWSlots]*breakpoint
	dirty bool // the table changed since the last sync
	// lifted are addresses whose breakpoints are out while one thread runs
	// the instruction there (motion.go); sync leaves them out.
	lifted map[uint64]bool
	// optIn are the TCSs whose DBGOPTIN the debugger set (debug-register
	// hits and single steps only fire in opted-in TCSs).
	optIn map[uint64]bool
}

func newBreakTable() *breakTable {
	return &breakTable{next: 1, sites: map[uint64]*site{}, optIn: map[uint64]bool{}, lifted: map[uint64]bool{}}
}

// add numbers a new breakpoint.
func (t *breakTable) add(bp *breakpoint) {
	if !bp.internal {
		bp.id = t.next
		t.next++
	}
	bp.enabled = true
	t.bps = append(t.bps, bp)
	t.dirty = true
}

// remove deletes bp from the table (its INT3s and slot go at the next sync).
func (t *breakTable) remove(bp *breakpoint) {
	for i, b := range t.bps {
		if b == bp {
			t.bps = append(t.bps[:i], t.bps[i+1:]...)
			break
		}
	}
	t.dirty = true
}

// byID finds a user breakpoint.
func (t *breakTable) byID(id int) *breakpoint {
	for _, b := range t.bps {
		if b.id == id && !b.internal {
			return b
		}
	}
	return nil
}

// shadow puts the original bytes back into buf, read at addr: EDBGRD views
// show the enclave's own code, not the debugger's INT3s.
func (t *breakTable) shadow(buf []byte, addr uint64) {
	if len(t.sites) == 0 {
		return
	}
	end := addr + uint64(len(buf))
	for a, s := range t.sites {
		if a >= addr && a < end {
			buf[a-addr] = s.orig
		}
	}
}

// shadowStop is a stop seen through the breakpoint table: reads show the
// original bytes under INT3s, writes over an INT3 change the byte the
// debugger will put back and keep the INT3.
type shadowStop struct {
	target.Stop
	t *breakTable
}

func (s *shadowStop) ReadEnclave(buf []byte, addr uint64) (int, error) {
	n, err := s.Stop.ReadEnclave(buf, addr)
	s.t.shadow(buf[:n], addr)
	return n, err
}

func (s *shadowStop) WriteEnclave(buf []byte, addr uint64) (int, error) {
	b := append([]byte(nil), buf...)
	for i := range b {
		if st := s.t.sites[addr+uint64(i)]; st != nil {
			st.orig, b[i] = b[i], 0xcc
		}
	}
	return s.Stop.WriteEnclave(b, addr)
}

// wrap returns st seen through the table.
func (t *breakTable) wrap(st target.Stop) target.Stop {
	if st == nil {
		return nil
	}
	if sh, ok := st.(*shadowStop); ok {
		return sh
	}
	return &shadowStop{Stop: st, t: t}
}

// raw is the stop under the shadow.
func raw(st target.Stop) target.Stop {
	if sh, ok := st.(*shadowStop); ok {
		return sh.Stop
	}
	return st
}

// wantSites lists where INT3s belong now: every enabled code breakpoint in
// every initialized debug enclave of its image.
func (t *breakTable) wantSites(encls []target.EnclaveInfo) map[uint64]bool {
	want := map[uint64]bool{}
	for _, bp := range t.bps {
		if !bp.enabled || bp.kind != BreakSoftware {
			continue
		}
		for _, l := range bp.locs {
			for _, e := range encls {
				if a := e.Base + l.off; e.Initialized && e.MRENCLAVE == l.mr && e.Attributes.Flags&sgx.AttrDebug != 0 && !t.lifted[a] {
					want[a] = true
				}
			}
		}
	}
	return want
}

// sync inserts and removes INT3s and debug-register slots so that they
// match the table, at a stop (any thread of the host). Sites whose
// enclave went away are forgotten.
func (s *Session) syncBreakpoints(st target.Stop) error {
	t := s.breaks
	if !t.dirty {
		return nil
	}
	st = raw(st)
	encls := st.Enclaves()
	want := t.wantSites(encls)
	var errs []error
	for a, site := range t.sites {
		if want[a] {
			continue
		}
		if _, ok := enclaveAt(st, a); ok {
			if _, err := st.WriteEnclave([]byte{site.orig}, a); err != nil {
				errs = append(errs, fmt.Errorf("remove the breakpoint at %#x: %w", a, err))
				continue
			}
		}
		delete(t.sites, a)
	}
	for a := range want {
		if t.sites[a] != nil {
			continue
		}
		var b [1]byte
		if _, err := st.ReadEnclave(b[:], a); err != nil {
			errs = append(errs, fmt.Errorf("insert a breakpoint at %#x: %w", a, err))
			continue
		}
		if _, err := st.WriteEnclave([]byte{0xcc}, a); err != nil {
			errs = append(errs, fmt.Errorf("insert a breakpoint at %#x: %w", a, err))
			continue
		}
		t.sites[a] = &site{addr: a, orig: b[0]}
	}
	if err := s.syncSlots(st, encls); err != nil {
		errs = append(errs, err)
	}
	t.dirty = len(errs) > 0
	return errors.Join(errs...)
}

// syncSlots gives the enabled hardware breakpoints and watchpoints their
// debug registers and opts every TCS of a debug enclave in (DBGOPTIN), as
// a hardware debugger must for them to fire inside enclaves.
func (s *Session) syncSlots(st target.Stop, encls []target.EnclaveInfo) error {
	t := s.breaks
	var slots [target.NumHWSlots]target.HWSlot
	var owner [target.NumHWSlots]*breakpoint
	n := 0
	for _, bp := range t.bps {
		if !bp.enabled || bp.kind == BreakSoftware {
			continue
		}
		for _, a := range bp.hwAddrs(encls) {
			if t.lifted[a] && bp.kind == BreakHardware {
				continue
			}
			if n == target.NumHWSlots {
				return fmt.Errorf("more than %d hardware breakpoints and watchpoints are enabled", target.NumHWSlots)
			}
			slots[n] = target.HWSlot{Enabled: true, Addr: a, Kind: bp.hwKind(), Len: max(1, bp.size)}
			owner[n] = bp
			n++
		}
	}
	if slots == t.slots {
		t.owner = owner
		return nil
	}
	dr, ok := s.p.(target.DebugRegisters)
	if !ok {
		return errors.New("this backend has no debug registers")
	}
	if err := dr.SetDebugRegisters(slots); err != nil {
		return err
	}
	t.slots, t.owner = slots, owner
	if n > 0 {
		for _, e := range encls {
			if e.Attributes.Flags&sgx.AttrDebug == 0 {
				continue
			}
			for _, tcs := range e.TCS {
				if !t.optIn[tcs] {
					if err := setDbgOptIn(st, tcs); err != nil {
						return err
					}
					t.optIn[tcs] = true
				}
			}
		}
	}
	return nil
}

// setDbgOptIn sets TCS.FLAGS.DBGOPTIN through EDBGWR.
func setDbgOptIn(st target.Stop, tcs uint64) error {
	var b [8]byte
	if _, err := st.ReadEnclave(b[:], tcs+tcsFlagsOffset); err != nil {
		return fmt.Errorf("read TCS.FLAGS of %#x: %w", tcs, err)
	}
	b[0] |= byte(sgx.TCSDbgOptIn)
	if _, err := st.WriteEnclave(b[:], tcs+tcsFlagsOffset); err != nil {
		return fmt.Errorf("set DBGOPTIN in TCS %#x: %w", tcs, err)
	}
	return nil
}

// tcsFlagsOffset is TCS.FLAGS.
const tcsFlagsOffset = 8

func (bp *breakpoint) hwKind() target.HWKind {
	switch bp.kind {
	case WatchWrite:
		return target.HWWrite
	case WatchRead, WatchAccess:
		return target.HWAccess
	}
	return target.HWExecute
}

// hwAddrs are the addresses a debug-register breakpoint watches now.
func (bp *breakpoint) hwAddrs(encls []target.EnclaveInfo) []uint64 {
	if bp.kind.isWatch() {
		return []uint64{bp.addr}
	}
	var out []uint64
	for _, l := range bp.locs {
		for _, e := range encls {
			if e.Initialized && e.MRENCLAVE == l.mr {
				out = append(out, e.Base+l.off)
			}
		}
	}
	return out
}

// resolveCode resolves a code location in every candidate image; the
// breakpoint is pending in the images whose enclaves do not exist yet.
// defaultFile is the source file of the current stop, for LINE alone.
func (s *Session) resolveCode(spec, defaultFile string) ([]breakLoc, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errorf(ErrUsage, "no location")
	}
	var locs []breakLoc
	var firstErr error
	for _, c := range s.cands {
		prog, err := c.program()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		loc, err := prog.Resolve(spec, 0, defaultFile)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, a := range loc.Addrs {
			l := breakLoc{mr: c.mr, off: a, function: loc.Function, file: loc.File, line: loc.Line}
			if pos, ok := prog.PositionAt(0, a); ok {
				l.function, l.file, l.line = pos.Function, pos.File, pos.Line
			}
			locs = append(locs, l)
		}
	}
	if len(locs) > 0 {
		return locs, nil
	}
	if len(s.cands) == 0 {
		return nil, errorf(ErrNoImage, "no enclave image to find %q in: pass one with --enclave", spec)
	}
	var nsf *dwarfx.NoSuchFileError
	var nce *dwarfx.NoCodeError
	var bad *dwarfx.BadLocationError
	switch {
	case errors.As(firstErr, &nce), errors.As(firstErr, &nsf):
		return nil, errorf(ErrNoSymbol, "%v", firstErr)
	case errors.As(firstErr, &bad):
		return nil, errorf(ErrUsage, "%v", firstErr)
	}
	return nil, errorf(ErrNoSymbol, "%q: %v", spec, firstErr)
}

// BreakView is one breakpoint as info breakpoints shows it.
type BreakView struct {
	ID        int       `json:"id"`
	Kind      BreakKind `json:"kind"`
	Spec      string    `json:"spec"`
	Enabled   bool      `json:"enabled"`
	Temporary bool      `json:"temporary,omitempty"`
	Hits      int       `json:"hits"`
	Condition string    `json:"condition,omitempty"`
	Ignore    int       `json:"ignore,omitempty"`
	Where     []string  `json:"where"` // function at file:line, or the watched range
	Pending   bool      `json:"pending"`
	Inserted  []Hex     `json:"inserted,omitempty"` // addresses in enclaves now
}

// BreakpointsResult lists the breakpoints.
type BreakpointsResult struct {
	Breakpoints []BreakView `json:"breakpoints"`
}

// Text renders gdb's table.
func (r *BreakpointsResult) Text() string {
	if len(r.Breakpoints) == 0 {
		return "No breakpoints or watchpoints."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s%-16s%-5s%-4s%s", "Num", "Type", "Disp", "Enb", "What")
	for _, v := range r.Breakpoints {
		disp, enb := "keep", "y"
		if v.Temporary {
			disp = "del"
		}
		if !v.Enabled {
			enb = "n"
		}
		what := strings.Join(v.Where, "; ")
		switch {
		case v.Pending && v.Hits > 0:
			what += " (no enclave of its image now)"
		case v.Pending:
			what += " (pending: no enclave of its image yet)"
		}
		fmt.Fprintf(&b, "\n%-4d%-16s%-5s%-4s%s", v.ID, v.Kind, disp, enb, what)
		for _, a := range v.Inserted {
			fmt.Fprintf(&b, "\n\tat %#x", uint64(a))
		}
		if v.Condition != "" {
			fmt.Fprintf(&b, "\n\tstop only if %s", v.Condition)
		}
		if v.Hits > 0 {
			times := "times"
			if v.Hits == 1 {
				times = "time"
			}
			fmt.Fprintf(&b, "\n\tbreakpoint already hit %d %s", v.Hits, times)
		}
		if v.Ignore > 0 {
			fmt.Fprintf(&b, "\n\tWill ignore next %d crossings of breakpoint.", v.Ignore)
		}
	}
	return b.String()
}

// view describes bp with the enclaves there are now.
func (bp *breakpoint) view(encls []target.EnclaveInfo) BreakView {
	v := BreakView{ID: bp.id, Kind: bp.kind, Spec: bp.spec, Enabled: bp.enabled, Temporary: bp.temporary,
		Hits: bp.hits, Condition: bp.cond, Ignore: bp.ignore}
	if bp.kind.isWatch() {
		v.Where = []string{fmt.Sprintf("%s (%d bytes at %#x)", bp.spec, bp.size, bp.addr)}
		v.Inserted = []Hex{Hex(bp.addr)}
		return v
	}
	v.Pending = true
	for _, l := range bp.locs {
		w := fmt.Sprintf("%s+%#x", l.function, 0)
		if l.file != "" {
			w = fmt.Sprintf("in %s at %s:%d", l.function, l.file, l.line)
		}
		v.Where = append(v.Where, w)
		for _, e := range encls {
			if e.Initialized && e.MRENCLAVE == l.mr {
				v.Pending = false
				v.Inserted = append(v.Inserted, Hex(e.Base+l.off))
			}
		}
	}
	return v
}

// The commands.

func cmdBreak(kind BreakKind, temporary bool) func(*Session, []string) (Result, error) {
	return func(s *Session, args []string) (Result, error) {
		spec := strings.Join(args, " ")
		cond := ""
		if i := strings.Index(spec, " if "); i >= 0 {
			spec, cond = strings.TrimSpace(spec[:i]), strings.TrimSpace(spec[i+4:])
		}
		defaultFile := ""
		var defaultPC uint64
		if st := s.cur; st != nil && !st.Resumed() {
			if p, err := s.placeOf(st); err == nil {
				defaultPC = p.pc
				if pos, ok := p.position(); ok {
					defaultFile = pos.File
				}
			}
		}
		if spec == "" {
			if defaultPC == 0 {
				return nil, usage("break LOCATION [if EXPR] (FUNCTION, FILE:LINE, LINE or *ADDR)")
			}
			spec = fmt.Sprintf("*%#x", defaultPC)
		}
		if strings.HasPrefix(spec, "*") {
			if err := s.checkCodeAddr(strings.TrimSpace(spec[1:])); err != nil {
				return nil, err
			}
		}
		where, mr, runtime := s.imageAddr(spec)
		locs, err := s.resolveCode(where, defaultFile)
		if err != nil {
			return nil, err
		}
		if runtime {
			locs = onlyImage(locs, mr)
		}
		bp := &breakpoint{kind: kind, spec: spec, temporary: temporary, cond: cond, locs: locs}
		if kind == BreakHardware && len(locs) > target.NumHWSlots {
			return nil, fmt.Errorf("%s has %d locations: more than the %d debug registers", spec, len(locs), target.NumHWSlots)
		}
		s.breaks.add(bp)
		if err := s.syncNow(); err != nil {
			s.breaks.remove(bp)
			_ = s.syncNow()
			return nil, err
		}
		return s.breakMessage(bp), nil
	}
}

// checkCodeAddr refuses *ADDR outside any enclave or in a non-debug one
// when the host has enclaves to check against.
func (s *Session) checkCodeAddr(w string) error {
	st := s.cur
	if st == nil || st.Resumed() {
		return nil
	}
	a, err := strconv.ParseUint(w, 0, 64)
	if err != nil {
		return nil // a symbol: resolved in the images
	}
	e, ok := enclaveAt(st, a)
	if !ok {
		return fmt.Errorf("*%#x: %w", a, target.ErrNotEnclave)
	}
	if err := debugEnclave(e); err != nil {
		return err
	}
	cand := s.matchedAt(e.Base)
	if cand == nil {
		return errorf(ErrNoImage, "no enclave image matches enclave %#x: pass it with --enclave", e.Base)
	}
	return nil
}

// syncNow applies the table at the current stop, if there is one.
func (s *Session) syncNow() error {
	if s.cur == nil || s.cur.Resumed() {
		return nil
	}
	return s.syncBreakpoints(s.cur)
}

func (s *Session) breakMessage(bp *breakpoint) Result {
	v := bp.view(s.enclavesNow())
	title := map[BreakKind]string{BreakSoftware: "Breakpoint", BreakHardware: "Hardware assisted breakpoint",
		WatchWrite: "Hardware watchpoint", WatchRead: "Hardware read watchpoint", WatchAccess: "Hardware access (read/write) watchpoint"}[bp.kind]
	if bp.temporary {
		title = "Temporary breakpoint"
	}
	msg := fmt.Sprintf("%s %d: %s", title, bp.id, strings.Join(v.Where, "; "))
	if v.Pending {
		msg += " (pending until an enclave of its image is initialized)"
	}
	return &BreakResult{Action: "break", Message: msg, Breakpoint: v}
}

// BreakResult reports a new or changed breakpoint.
type BreakResult struct {
	Action     string    `json:"action"`
	Message    string    `json:"message"`
	Breakpoint BreakView `json:"breakpoint"`
}

// Text is the message.
func (r *BreakResult) Text() string { return r.Message }

// enclavesNow lists the enclaves at the current stop, or none.
func (s *Session) enclavesNow() []target.EnclaveInfo {
	if s.cur == nil || s.cur.Resumed() {
		return nil
	}
	return s.cur.Enclaves()
}

// watchRange evaluates a watchpoint's expression: *ADDR[,LEN] or an lvalue
// of the current frame (its address and size).
func (s *Session) watchRange(expr string) (uint64, int, error) {
	if rest, ok := strings.CutPrefix(expr, "*"); ok {
		a, l, _ := strings.Cut(rest, ",")
		addr, err := strconv.ParseUint(strings.TrimSpace(a), 0, 64)
		if err == nil {
			n := 8
			if l != "" {
				if n, err = strconv.Atoi(strings.TrimSpace(l)); err != nil {
					return 0, 0, errorf(ErrUsage, "watch: length %q", l)
				}
			}
			return addr, n, nil
		}
	}
	v, err := s.evalAt(s.cur, expr)
	if err != nil {
		return 0, 0, err
	}
	if !v.InMemory {
		return 0, 0, fmt.Errorf("watch %s: the value is not in memory (a register or a computed value)", expr)
	}
	return v.Addr, int(v.Type.Size()), nil
}

func cmdWatch(kind BreakKind) func(*Session, []string) (Result, error) {
	return func(s *Session, args []string) (Result, error) {
		expr := strings.TrimSpace(strings.Join(args, " "))
		if expr == "" {
			return nil, usage(fmt.Sprintf("%s EXPR|*ADDR[,LEN]", map[BreakKind]string{WatchWrite: "watch", WatchRead: "rwatch", WatchAccess: "awatch"}[kind]))
		}
		return s.atStop(func(st target.Stop) (Result, error) {
			addr, size, err := s.watchRange(expr)
			if err != nil {
				return nil, err
			}
			slot := target.HWSlot{Enabled: true, Addr: addr, Kind: target.HWWrite, Len: size}
			if err := slot.Validate(); err != nil {
				return nil, fmt.Errorf("watch %s: %w", expr, err)
			}
			e, ok := enclaveAt(st, addr)
			if !ok {
				return nil, fmt.Errorf("watch %s: %#x: %w", expr, addr, target.ErrNotEnclave)
			}
			if err := debugEnclave(e); err != nil {
				return nil, err
			}
			old := make([]byte, size)
			if _, err := st.ReadEnclave(old, addr); err != nil {
				return nil, fmt.Errorf("watch %s: %w", expr, err)
			}
			bp := &breakpoint{kind: kind, spec: expr, addr: addr, size: size, old: old}
			s.breaks.add(bp)
			if err := s.syncNow(); err != nil {
				s.breaks.remove(bp)
				_ = s.syncNow()
				return nil, fmt.Errorf("watch %s: %w", expr, err)
			}
			return s.breakMessage(bp), nil
		})
	}
}

// idArgs parses breakpoint numbers; none means all.
func (s *Session) idArgs(cmd string, args []string) ([]*breakpoint, error) {
	if len(args) == 0 {
		var all []*breakpoint
		for _, b := range s.breaks.bps {
			if !b.internal {
				all = append(all, b)
			}
		}
		return all, nil
	}
	var out []*breakpoint
	for _, a := range args {
		id, err := strconv.Atoi(a)
		if err != nil {
			return nil, errorf(ErrUsage, "%s: %q is not a breakpoint number", cmd, a)
		}
		bp := s.breaks.byID(id)
		if bp == nil {
			return nil, errorf(ErrNoSymbol, "%s: no breakpoint number %d", cmd, id)
		}
		out = append(out, bp)
	}
	return out, nil
}

func cmdDelete(s *Session, args []string) (Result, error) {
	bps, err := s.idArgs("delete", args)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, bp := range bps {
		s.breaks.remove(bp)
		ids = append(ids, strconv.Itoa(bp.id))
	}
	if err := s.syncNow(); err != nil {
		return nil, err
	}
	return &ActionResult{Action: "delete", Message: "deleted " + plural(len(ids), "breakpoint") + " " + strings.Join(ids, " ")}, nil
}

func cmdEnable(on bool) func(*Session, []string) (Result, error) {
	return func(s *Session, args []string) (Result, error) {
		name := map[bool]string{true: "enable", false: "disable"}[on]
		bps, err := s.idArgs(name, args)
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, bp := range bps {
			bp.enabled = on
			ids = append(ids, strconv.Itoa(bp.id))
		}
		s.breaks.dirty = true
		if err := s.syncNow(); err != nil {
			return nil, err
		}
		return &ActionResult{Action: name, Message: name + "d " + plural(len(ids), "breakpoint") + " " + strings.Join(ids, " ")}, nil
	}
}

func cmdCondition(s *Session, args []string) (Result, error) {
	if len(args) == 0 {
		return nil, usage("condition N [EXPR]")
	}
	bps, err := s.idArgs("condition", args[:1])
	if err != nil {
		return nil, err
	}
	bp := bps[0]
	bp.cond = strings.TrimSpace(strings.Join(args[1:], " "))
	if bp.cond == "" {
		return &ActionResult{Action: "condition", Message: fmt.Sprintf("Breakpoint %d now unconditional.", bp.id)}, nil
	}
	return &ActionResult{Action: "condition", Message: fmt.Sprintf("Breakpoint %d stops only if %s", bp.id, bp.cond)}, nil
}

func cmdIgnore(s *Session, args []string) (Result, error) {
	if len(args) != 2 {
		return nil, usage("ignore N COUNT")
	}
	bps, err := s.idArgs("ignore", args[:1])
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 {
		return nil, errorf(ErrUsage, "ignore: count %q", args[1])
	}
	bps[0].ignore = n
	return &ActionResult{Action: "ignore", Message: fmt.Sprintf("Will ignore next %d crossings of breakpoint %d.", n, bps[0].id)}, nil
}

func (s *Session) viewBreakpoints() (Result, error) {
	r := &BreakpointsResult{Breakpoints: []BreakView{}}
	encls := s.enclavesNow()
	for _, bp := range s.breaks.bps {
		if !bp.internal {
			r.Breakpoints = append(r.Breakpoints, bp.view(encls))
		}
	}
	sort.Slice(r.Breakpoints, func(i, j int) bool { return r.Breakpoints[i].ID < r.Breakpoints[j].ID })
	return r, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// sameBytes compares watch values.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }
