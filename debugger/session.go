package debugger

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// LaunchOptions describe the host program a session runs.
type LaunchOptions struct {
	Path  string
	Args  []string // argv, including argv[0]
	Env   []string
	Dir   string
	Files []*os.File
}

// Launcher runs a host program to its end under a backend, calling onEvent
// for every event and onStop at every stop point, both on the backend's own
// goroutine. It returns the host's exit status as a shell reports it.
type Launcher func(opts LaunchOptions, onEvent func(target.Event), onStop func(target.Stop)) (int, error)

// Options configure a session.
type Options struct {
	Launch   LaunchOptions
	Launcher Launcher
	// Enclaves are enclave ELF images to symbolize with; the host's own
	// arguments that are enclave images are tried too. An image is used
	// for the enclave whose MRENCLAVE it measures to.
	Enclaves []string
	// Policy says where to stop; the zero value stops at every AEX.
	Policy Policy
	// OnEvent, if set, sees every event as it happens (on the backend's
	// goroutine: it must not block).
	OnEvent func(target.Event)
	// Dumper writes core files for the dump command (dump.go); nil: the
	// session cannot dump.
	Dumper Dumper
}

// ErrExited is returned by commands that need a live host after it ended.
var ErrExited = errors.New("the host has exited")

// ErrNotStopped is returned by commands that need a stopped thread.
var ErrNotStopped = errors.New("not stopped")

// Session is one debugging session over one host program.
type Session struct {
	opts Options

	mu       sync.Mutex
	timeline []target.Event
	images   map[uint64]*enclave.Image // by enclave base
	cands    []*candidate
	stepping map[uint64]bool // TCS → a step is in flight

	stops chan target.Stop
	reqs  chan request
	done  chan struct{}
	exit  int
	err   error

	cur      target.Stop // the current stop, owned by the caller of Wait
	stepDone bool        // the current stop is the #DB that ends a step
	ended    bool
	lastInfo []target.EnclaveInfo
}

type candidate struct {
	path string
	im   *enclave.Image
	mr   [32]byte
}

type request struct {
	f    func(target.Stop) error
	errc chan error
}

// Start launches the host and returns once it runs; use Wait for stops.
func Start(opts Options) (*Session, error) {
	if opts.Launcher == nil {
		return nil, errors.New("debugger: no backend")
	}
	s := &Session{
		opts:     opts,
		images:   map[uint64]*enclave.Image{},
		stepping: map[uint64]bool{},
		stops:    make(chan target.Stop),
		reqs:     make(chan request),
		done:     make(chan struct{}),
	}
	s.loadCandidates()
	go func() {
		s.exit, s.err = opts.Launcher(opts.Launch, s.onEvent, s.onStop)
		close(s.done)
	}()
	return s, nil
}

// loadCandidates opens the enclave images that may match enclaves the
// host creates: the --enclave files and the host's ELF arguments.
func (s *Session) loadCandidates() {
	paths := append([]string(nil), s.opts.Enclaves...)
	for _, a := range s.opts.Launch.Args[min(1, len(s.opts.Launch.Args)):] {
		if fi, err := os.Stat(a); err == nil && fi.Mode().IsRegular() && isELF(a) {
			paths = append(paths, a)
		}
	}
	for _, p := range paths {
		im, err := enclave.Open(p)
		if err != nil {
			continue
		}
		mr, err := im.MRENCLAVE()
		if err != nil {
			im.Close()
			continue
		}
		s.cands = append(s.cands, &candidate{path: p, im: im, mr: mr})
	}
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

func (s *Session) onEvent(ev target.Event) {
	s.mu.Lock()
	s.timeline = append(s.timeline, ev)
	if ev.Kind == target.EvEnclaveInitialized {
		for _, c := range s.cands {
			if c.mr == ev.MRENCLAVE {
				s.images[ev.Enclave] = c.im
			}
		}
	}
	if ev.Kind == target.EvEnclaveRemoved {
		delete(s.images, ev.Enclave)
	}
	s.mu.Unlock()
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(ev)
	}
}

// onStop runs on the backend's goroutine: it hands the stop to Wait and
// serves the session's requests on it until one resumes the thread.
func (s *Session) onStop(st target.Stop) {
	ev := st.Event()
	s.mu.Lock()
	// A step ends at the #DB it provoked; any other AEX is a real event.
	stepped := ev.Kind == target.EvAEX && s.stepping[ev.TCS] && ev.Valid && ev.Vector == uint8(sgx.VectorDB)
	if ev.Kind == target.EvAEX {
		delete(s.stepping, ev.TCS)
	}
	s.mu.Unlock()
	s.mu.Lock()
	stops := s.opts.Policy.Stops(ev)
	s.mu.Unlock()
	if !stepped && !stops {
		return
	}
	s.stepDone = stepped
	s.stops <- st
	for !st.Resumed() {
		req := <-s.reqs
		req.errc <- req.f(st)
	}
}

// Stopped is what Wait returns: a stop, or the host's end.
type Stopped struct {
	Event  target.Event // the event the thread stopped at (zero when Exited)
	Exited bool
	Status int // the host's exit status, when Exited
}

// Wait blocks until the next stop or the host's end.
func (s *Session) Wait() (Stopped, error) {
	if s.ended {
		return Stopped{Exited: true, Status: s.exit}, s.err
	}
	select {
	case st := <-s.stops:
		s.cur = st
		s.lastInfo = st.Enclaves()
		return Stopped{Event: st.Event()}, nil
	case <-s.done:
		s.cur, s.ended = nil, true
		return Stopped{Exited: true, Status: s.exit}, s.err
	}
}

// Stopped reports whether a thread is held at a stop.
func (s *Session) IsStopped() bool { return s.cur != nil }

// Exited reports whether the host has ended.
func (s *Session) Exited() bool { return s.ended }

// do runs f on the backend's goroutine against the current stop. If f
// resumed the thread, the stop is over.
func (s *Session) do(f func(target.Stop) error) error {
	if s.ended {
		return ErrExited
	}
	if s.cur == nil {
		return ErrNotStopped
	}
	errc := make(chan error, 1)
	st := s.cur
	s.reqs <- request{f: f, errc: errc}
	err := <-errc
	if st.Resumed() {
		s.cur = nil
	}
	return err
}

// Timeline returns a copy of the events so far.
func (s *Session) Timeline() []target.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]target.Event(nil), s.timeline...)
}

// Image returns the enclave image matched to the enclave at base, or nil.
func (s *Session) Image(base uint64) *enclave.Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.images[base]
}

// Kill ends the host (from any state) and waits for its end.
func (s *Session) Kill() error {
	if s.ended {
		return nil
	}
	if s.cur != nil {
		_ = s.do(func(st target.Stop) error { st.Kill(); return nil })
	}
	for !s.ended {
		if _, err := s.Wait(); err != nil {
			return err
		}
		if s.cur != nil {
			_ = s.do(func(st target.Stop) error { st.Kill(); return nil })
		}
	}
	return nil
}

// Close releases the enclave images.
func (s *Session) Close() {
	for _, c := range s.cands {
		c.im.Close()
	}
}

// debugEnclave checks that an enclave may be read through EDBGRD at all.
func debugEnclave(e target.EnclaveInfo) error {
	if e.Attributes.Flags&sgx.AttrDebug == 0 {
		return fmt.Errorf("enclave %#x is not a debug enclave (ATTRIBUTES.DEBUG is clear): its memory cannot be read", e.Base)
	}
	return nil
}
