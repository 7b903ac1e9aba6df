package debugger

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Options configure a session.
type Options struct {
	// Enclaves are enclave ELF images to symbolize with (Launch adds the
	// host's own arguments that are ELF files). An image is used for the
	// enclave whose MRENCLAVE it measures to.
	Enclaves []string
	// Policy says where to stop; the zero value stops at every AEX.
	Policy Policy
	// OnEvent, if set, sees every event, in order, on the goroutine that
	// runs Wait (or the command that caused it); it must not call the
	// session.
	OnEvent func(target.Event)
	// Dumper writes core files for the dump command (dump.go); nil: the
	// session cannot dump.
	Dumper Dumper
	// SourceDirs are searched for source files after each unit's
	// compilation directory (the directory command adds more).
	SourceDirs []string
}

// Session is one debugging session over one host program. It pulls: Wait
// asks the backend for the next thing that happened until it is a stop the
// policy wants (or the host's end); commands run at that stop, on the
// backend's thread, and an action's consequences are the next Wait's.
//
// Wait, Exec, Kill, IsStopped and Exited may be called from any goroutine;
// Exec waits while another call uses the backend, and answers ErrRunning
// for commands that need a stopped host while a Wait runs.
type Session struct {
	p    target.Process
	opts Options

	mu       sync.Mutex // guards what other goroutines read, below
	timeline *timeline
	images   map[uint64]*enclave.Image // by enclave base
	matched  map[uint64]*candidate     // the same, with their DWARF
	policy   Policy
	running  bool // a Wait is in progress
	// interrupt: Interrupt asked to stop; the first interrupt stop is the
	// user's.
	interrupt bool
	stopped   bool // cur is held
	ended     bool
	exit      target.ExitStatus

	// On the backend's thread only.
	cands    []*candidate
	stepping map[uint64]bool // TCS → a single step is in flight
	cur      target.Stop     // the current stop (seen through the breakpoints)
	answer   *HandlerView    // the handler run at cur that reached its EEXIT
	breaks   *breakTable
	lifted   map[uint64]*lifted // TCS → a breakpoint lifted for one instruction
	motion   *motion            // the stepping command in flight
	// own: cur is the debugger's own trap (a breakpoint, a watchpoint, the
	// end of a step): continuing it ERESUMEs instead of telling the host.
	own      bool
	reason   *StopReason // why cur stopped, beyond its event
	returned string      // finish: the value returned
	sources  *dwarfx.Sources
	missing  []string // source files not found, not said yet
	frameSel int      // the frame the views follow (frame, up, down), 0 at each stop
	tcsSel   uint64   // the TCS the views follow (thread, tcs), 0: the stop's
	displays []string // display expressions, shown at every stop
	listNext *listPos // where a bare list goes on
	// hostProgs are the host's modules' DWARF, by path (nil: none).
	hostProgs map[string]*dwarfx.Program
	lastX     examined // the last x, for x without /FMT or ADDR
}

type candidate struct {
	path string
	im   *enclave.Image
	mr   [32]byte // what the image's pages measure to
	// declared is the MRENCLAVE the image's signature declares (an SDK
	// image's SIGSTRUCT), matched too: a layout this package got wrong
	// still symbolizes an enclave its signature names.
	declared *[32]byte
	prog     *dwarfx.Program // opened on first use (place.go)
	progErr  error
}

// ErrExited is returned by commands that need a live host after it ended.
var ErrExited = errors.New("the host has exited")

// ErrNotStopped is returned by commands that need a stopped thread when
// the host runs (or was let go by the last action).
var ErrNotStopped = errors.New("not stopped")

// New starts a session over a backend's process. The host stays as it is
// until the first Wait.
func New(p target.Process, opts Options) *Session {
	s := &Session{p: p, opts: opts, policy: opts.Policy, timeline: newTimeline(TimelineWindow), images: map[uint64]*enclave.Image{}, matched: map[uint64]*candidate{},
		stepping: map[uint64]bool{}, breaks: newBreakTable(), lifted: map[uint64]*lifted{}, hostProgs: map[string]*dwarfx.Program{}, sources: dwarfx.NewSources(opts.SourceDirs...)}
	s.loadCandidates(opts.Enclaves)
	return s
}

// Launch starts the host under backend b and a session over it. The host's
// arguments that are ELF files are tried as enclave images.
func Launch(b target.Backend, lo target.LaunchOptions, opts Options) (*Session, error) {
	if b.Launch == nil {
		return nil, fmt.Errorf("the %s backend cannot launch a host", b.Name)
	}
	p, err := b.Launch(lo)
	if err != nil {
		return nil, err
	}
	for _, a := range lo.Args[min(1, len(lo.Args)):] {
		if fi, err := os.Stat(a); err == nil && fi.Mode().IsRegular() && isELF(a) {
			opts.Enclaves = append(opts.Enclaves, a)
		}
	}
	return New(p, opts), nil
}

// loadCandidates opens the enclave images that may match enclaves the
// host creates.
func (s *Session) loadCandidates(paths []string) {
	for _, p := range paths {
		ims, err := enclave.OpenAll(p) // an SDK image: one layout per metadata block
		if err != nil {
			continue
		}
		for _, im := range ims {
			mr, err := im.MRENCLAVE()
			if err != nil {
				im.Close()
				continue
			}
			if s.hasCandidate(p, mr) { // SDK metadata blocks that lay out alike
				im.Close()
				continue
			}
			c := &candidate{path: p, im: im, mr: mr}
			if d, ok := im.DeclaredMRENCLAVE(); ok && d != mr {
				c.declared = &d
			}
			s.cands = append(s.cands, c)
		}
	}
}

// hasCandidate reports whether the image at path with that measurement is
// a candidate already.
func (s *Session) hasCandidate(path string, mr [32]byte) bool {
	for _, c := range s.cands {
		if c.path == path && c.mr == mr {
			return true
		}
	}
	return false
}

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = f.Read(magic[:])
	return err == nil && string(magic[:]) == "\x7fELF"
}

// record adds events to the timeline and shows them to OnEvent.
func (s *Session) record(evs []target.Event) {
	if len(evs) == 0 {
		return
	}
	s.mu.Lock()
	s.timeline.add(evs)
	for _, ev := range evs {
		switch ev.Kind {
		case target.EvEnclaveInitialized:
			s.breaks.dirty = true
			for _, c := range s.cands {
				if c.mr == ev.MRENCLAVE || c.declared != nil && *c.declared == ev.MRENCLAVE {
					s.images[ev.Enclave], s.matched[ev.Enclave] = c.im, c
					break
				}
			}
		case target.EvEnclaveRemoved:
			s.breaks.dirty = true
			delete(s.images, ev.Enclave)
			delete(s.matched, ev.Enclave)
		}
	}
	s.mu.Unlock()
	if s.opts.OnEvent != nil {
		for _, ev := range evs {
			s.opts.OnEvent(ev)
		}
	}
}

// Stopped is what Wait returns: a stop, or the host's end.
type Stopped struct {
	Event  target.Event // the event the thread stopped at (zero when Exited)
	Reason *StopReason  // the debugger's reason (a breakpoint, a step), or nil
	// Displays are the display expressions' values at the stop.
	Displays *DisplayResult
	Exited   bool
	Status   int // the host's exit status, when Exited (128+N: killed by signal N)
	// End says how the host ended, when Exited.
	End target.ExitStatus
}

// ErrRunning is returned by Wait while another Wait runs.
var ErrRunning = errors.New("the host is running")

// Wait lets the host go on from the current stop (as without a debugger,
// unless a command already let it go) and returns the next stop the policy
// wants, or the host's end.
func (s *Session) Wait() (Stopped, error) {
	s.mu.Lock()
	if s.ended {
		defer s.mu.Unlock()
		return Stopped{Exited: true, Status: s.exit.ShellCode(), End: s.exit}, nil
	}
	if s.running {
		s.mu.Unlock()
		return Stopped{}, ErrRunning
	}
	s.running, s.stopped = true, false
	s.mu.Unlock()
	var out Stopped
	err := s.p.Do(func() error {
		var err error
		out, err = s.resume()
		return err
	})
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
	return out, err
}

// resume pulls from the backend until a stop the session wants or the end.
// Backend thread.
func (s *Session) resume() (Stopped, error) {
	s.cur, s.own, s.answer, s.reason, s.returned, s.frameSel, s.listNext, s.tcsSel = nil, false, nil, nil, "", 0, nil, 0
	for {
		tr, err := s.p.ContinueOnce()
		if err != nil {
			return Stopped{}, err
		}
		s.record(tr.Events)
		if tr.Exited {
			s.setEnded(tr.Status)
			s.endMotion()
			return Stopped{Exited: true, Status: tr.Status.ShellCode(), End: tr.Status}, nil
		}
		if tr.Stop == nil {
			continue
		}
		st := s.breaks.wrap(tr.Stop)
		var warn error
		if err := s.syncBreakpoints(st); err != nil {
			warn = err
		}
		s.own = false
		stop, err := s.wantsStop(st)
		if err != nil {
			warn = err
			stop = !st.Resumed()
		}
		if !stop {
			continue
		}
		// Any stop answers an interrupt asked for meanwhile (a breakpoint
		// hit as the interrupt was sent): the interrupt's own stops of the
		// threads go on when the session does, not as a later "pause".
		s.mu.Lock()
		s.interrupt = false
		s.mu.Unlock()
		if err := s.syncBreakpoints(st); err != nil && warn == nil {
			warn = err // what the stop changed (a finished motion's breakpoints) is applied now
		}
		if m := s.motion; m != nil && m.tcs != st.Event().TCS {
			s.endMotion() // another thread's stop ends the stepping
		}
		s.setStop(st)
		if len(s.missing) > 0 {
			warn = errors.Join(warn, errors.New(strings.Join(s.missing, "; ")))
			s.missing = nil
		}
		if warn != nil {
			if s.reason == nil {
				s.reason = &StopReason{Kind: "error"}
			}
			s.reason.Message = strings.TrimLeft(s.reason.Message+"\nwarning: "+warn.Error(), "\n")
		}
		out := Stopped{Event: st.Event(), Reason: s.reason}
		if len(s.displays) > 0 {
			out.Displays = s.showDisplays()
		}
		return out, nil
	}
}

// setEnded records the host's end.
func (s *Session) setEnded(st target.ExitStatus) {
	s.mu.Lock()
	s.ended, s.exit = true, st
	s.mu.Unlock()
}

// setStop makes st the current stop. Backend thread.
func (s *Session) setStop(st target.Stop) {
	s.cur = st
	s.mu.Lock()
	s.stopped = st != nil && !st.Resumed()
	s.mu.Unlock()
}

// pullHandler takes the stop that ends the handler run an action started
// (EnterHandler, or ERESUME of a frame such a run left). Backend thread.
func (s *Session) pullHandler() (target.Stop, error) {
	for {
		tr, err := s.p.ContinueOnce()
		if err != nil {
			return nil, err
		}
		s.record(tr.Events)
		switch {
		case tr.Exited:
			s.setEnded(tr.Status)
			s.setStop(nil)
			return nil, fmt.Errorf("the host ended (status %d) while the handler ran", tr.Status.ShellCode())
		case tr.Stop != nil && tr.Stop.Handler() != nil:
			s.setStop(tr.Stop)
			return tr.Stop, nil
		case tr.Stop != nil:
			// The handler's thread went away; the host goes on.
			s.setStop(tr.Stop)
			return nil, fmt.Errorf("the handler's thread ended before the handler returned; stopped at %s", tr.Stop.Event().Kind)
		}
	}
}

// ErrNotRunning is Interrupt's answer when no Wait runs.
var ErrNotRunning = errors.New("the host is not running (it is stopped or has ended)")

// Interrupt stops a running host, from any goroutine (Ctrl-C): every
// thread stops, a thread inside an enclave with the AEX an interrupt causes
// (EXITINFO.VALID = 0; continue or eresume resumes it transparently); the
// Wait in progress returns the first of those stops.
func (s *Session) Interrupt() error {
	s.mu.Lock()
	running := s.running && !s.ended
	if running {
		s.interrupt = true
	}
	s.mu.Unlock()
	if !running {
		return ErrNotRunning
	}
	it, ok := s.p.(target.Interrupter)
	if !ok {
		return errors.New("this backend cannot interrupt the host")
	}
	return it.Interrupt()
}

// IsStopped reports whether a thread is held at a stop.
func (s *Session) IsStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped && !s.running
}

// Exited reports whether the host has ended.
func (s *Session) Exited() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// Timeline returns a copy of the events kept so far (timeline.go: the
// first and the last ones of a long run).
func (s *Session) Timeline() []target.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timeline.events()
}

// Image returns the enclave image matched to the enclave at base, or nil.
func (s *Session) Image(base uint64) *enclave.Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.images[base]
}

// Kill ends the host, from any state and any goroutine. When no Wait runs,
// it waits for the host's end.
func (s *Session) Kill() error {
	s.mu.Lock()
	ended, running := s.ended, s.running
	s.mu.Unlock()
	if ended {
		return nil
	}
	s.p.Kill()
	if running {
		return nil // the Wait in progress sees the end
	}
	for {
		st, err := s.Wait()
		if err != nil || st.Exited {
			return err
		}
	}
}

// Close kills a host that still runs, releases the backend and the
// enclave images.
func (s *Session) Close() error {
	err := s.p.Close()
	for _, c := range s.cands {
		c.im.Close()
		if c.prog != nil {
			c.prog.Close()
		}
	}
	for _, p := range s.hostProgs {
		if p != nil {
			p.Close()
		}
	}
	return err
}

// debugEnclave checks that an enclave may be read through EDBGRD at all.
func debugEnclave(e target.EnclaveInfo) error {
	if e.Attributes.Flags&sgx.AttrDebug == 0 {
		return fmt.Errorf("enclave %#x: its memory cannot be read (ATTRIBUTES.DEBUG is clear): %w", e.Base, target.ErrNotDebug)
	}
	return nil
}
