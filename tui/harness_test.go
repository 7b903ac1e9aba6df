package tui

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// story is a real session over a sample, its host's output collected,
// driven through a Model by a synchronous harness.
type story struct {
	t      *testing.T
	m      *Model
	s      *debugger.Session
	out    bytes.Buffer // the host's stdout and stderr
	outMu  sync.Mutex
	outEnd chan struct{}
	outW   *os.File // the host's end of the output pipe
	quit   bool
}

// newStory starts the host on sample NAME with the host's arguments and
// sizes the screen w×h, stopping at every AEX.
func newStory(t *testing.T, w, h int, sample string, args ...string) *story {
	t.Helper()
	return newStoryOn(t, w, h, debugger.Policy{}, sample, args...)
}

// storyHangLimit ends a story that hangs (a deadlock detector: a story
// takes well under a second) by crashing the test binary with every
// goroutine's stack, rather than waiting for go test's timeout.
const storyHangLimit = 2 * time.Minute

// newStoryOn is newStory with a stop policy.
func newStoryOn(t *testing.T, w, h int, policy debugger.Policy, sample string, args ...string) *story {
	t.Helper()
	return newStorySetup(t, w, h, policy, nil, sample, args...)
}

// newStorySetup is newStoryOn with setup commands (break …) run before
// the host's first stop, as exec --break does.
func newStorySetup(t *testing.T, w, h int, policy debugger.Policy, setup []string, sample string, args ...string) *story {
	t.Helper()
	watchdog := time.AfterFunc(storyHangLimit, func() { panic(t.Name() + ": the story hangs") })
	t.Cleanup(func() { watchdog.Stop() })
	dir := fixtures.Samples(t)
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{filepath.Join(dir, "host"), filepath.Join(dir, sample+".elf"), filepath.Join(dir, sample+".elf.sig")}, args...)
	s, err := debugger.Launch(emu.Backend, target.LaunchOptions{Path: argv[0], Args: argv, Files: []*os.File{null, wr, wr}}, debugger.Options{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	st := &story{t: t, s: s, outEnd: make(chan struct{}), outW: wr}
	go func() {
		b, _ := io.ReadAll(r)
		st.outMu.Lock()
		st.out.Write(b)
		st.outMu.Unlock()
		close(st.outEnd)
	}()
	t.Cleanup(func() {
		if !s.Exited() {
			_ = s.Kill()
		}
		s.Close()
		wr.Close()
		null.Close()
	})
	ns := &normSession{s: s, n: newNormalizer(dir)}
	for _, line := range setup {
		if _, err := ns.Exec(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	st.m = New(Config{Session: ns, Title: HostTitle(argv)})
	st.send(tea.WindowSizeMsg{Width: w, Height: h})
	st.run(st.m.Init())
	return st
}

// send gives msg to Update and runs the commands it returns, feeding
// their messages back, until nothing is left: what Bubble Tea does,
// one message at a time. Spinner ticks are dropped (they only animate).
func (st *story) send(msg tea.Msg) {
	_, cmd := st.m.Update(msg)
	st.run(cmd)
}

func (st *story) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil, spinner.TickMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			st.run(c)
		}
	case tea.QuitMsg:
		st.quit = true
	default:
		st.send(msg)
	}
}

// key presses one key: "e", "enter", "ctrl+c", or text typed rune by rune
// with typeText.
func (st *story) key(k string) {
	st.t.Helper()
	st.send(keyMsg(k))
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (st *story) typeText(s string) {
	for _, r := range s {
		st.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is the view without colour.
func (st *story) screen() string { return ansi.Strip(st.m.View().Content) }

// hostOutput returns everything the host wrote; call it after its end.
func (st *story) hostOutput() string {
	st.t.Helper()
	if !st.s.Exited() {
		st.t.Fatal("hostOutput before the host's end")
	}
	st.outW.Close()
	<-st.outEnd
	st.outMu.Lock()
	defer st.outMu.Unlock()
	return st.out.String()
}

// feedOutput gives the model the host's output as the Output feed would:
// the model tests add it after the host's end, so that the screen does
// not depend on when the lines arrive (the tmux test sees them live).
func (st *story) feedOutput() {
	st.t.Helper()
	var b outputMsg
	for _, l := range strings.Split(strings.TrimSuffix(st.hostOutput(), "\n"), "\n") {
		b.items = append(b.items, OutputLine{Text: l})
	}
	b.closed = true
	st.send(b)
}

// golden compares the screen with testdata/NAME.golden (or writes it with
// -update).
func (st *story) golden(name string) string {
	st.t.Helper()
	got := st.screen()
	if h := strings.Count(got, "\n") + 1; h != st.m.h {
		st.t.Errorf("%s: the view has %d lines, want the terminal's %d", name, h, st.m.h)
	}
	for i, l := range strings.Split(got, "\n") {
		if w := ansi.StringWidth(l); w != st.m.w {
			st.t.Errorf("%s: line %d is %d cells wide, want %d: %q", name, i+1, w, st.m.w, l)
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			st.t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		st.t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		st.t.Errorf("%s: the screen differs from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", name, path, got, want)
	}
	return got
}

// normSession makes a real session's results the same on every run and
// machine, so that whole screens can be compared with golden files: the
// enclave moves to a fixed base (its offsets kept), other addresses
// (host stack, libraries, the vDSO) become stand-ins numbered in order of
// appearance, and so do thread ids and measurements (the signing key is
// made at build time); image paths lose their directory.
type normSession struct {
	s *debugger.Session
	n *normalizer
}

func (ns *normSession) Wait() (debugger.Stopped, error) {
	st, err := ns.s.Wait()
	ns.n.learn(ns.s.Timeline())
	ns.n.walk(reflect.ValueOf(&st).Elem())
	return st, ns.n.err(err)
}

func (ns *normSession) Exec(line string) (debugger.Result, error) {
	r, err := ns.s.Exec(ns.n.real(line))
	ns.n.learn(ns.s.Timeline())
	if r != nil {
		ns.n.walk(reflect.ValueOf(r))
	}
	return r, ns.n.err(err)
}

func (ns *normSession) IsStopped() bool { return ns.s.IsStopped() }

func (ns *normSession) Complete(line string) []string { return ns.s.Complete(line) }

const fakeBase = 0x7f0000000000

type normalizer struct {
	dir      string
	enclaves map[uint64]uint64 // base → size
	addrs    map[uint64]uint64
	ids      map[int64]int64
	digests  map[[32]byte][32]byte
}

func newNormalizer(dir string) *normalizer {
	return &normalizer{dir: dir, enclaves: map[uint64]uint64{}, addrs: map[uint64]uint64{}, ids: map[int64]int64{}, digests: map[[32]byte][32]byte{}}
}

func (n *normalizer) learn(evs []target.Event) {
	for _, ev := range evs {
		if ev.Kind == target.EvEnclaveCreated {
			n.enclaves[ev.Enclave] = ev.Size
		}
	}
}

func (n *normalizer) addr(v uint64) uint64 {
	if v < 1<<32 {
		return v
	}
	for base, size := range n.enclaves {
		if v >= base && v < base+size {
			return fakeBase + v - base
		}
	}
	if a, ok := n.addrs[v]; ok {
		return a
	}
	a := uint64(0x7ff000000000) + uint64(len(n.addrs)+1)*0x1000
	n.addrs[v] = a
	return a
}

// real turns the stand-in addresses of a command line (the UI's b puts
// the addresses it shows in break *ADDR) back into the real ones.
func (n *normalizer) real(line string) string {
	return hexRe.ReplaceAllStringFunc(line, func(h string) string {
		v, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil {
			return h
		}
		for base, size := range n.enclaves {
			if v >= fakeBase && v < fakeBase+size {
				return fmt.Sprintf("%#x", base+v-fakeBase)
			}
		}
		for real, fake := range n.addrs {
			if fake == v {
				return fmt.Sprintf("%#x", real)
			}
		}
		return h
	})
}

func (n *normalizer) id(v int64) int64 {
	if v == 0 {
		return 0
	}
	if i, ok := n.ids[v]; ok {
		return i
	}
	i := int64(1000 + len(n.ids))
	n.ids[v] = i
	return i
}

var (
	hexRe = regexp.MustCompile(`0x[0-9a-f]+`)
	idRe  = regexp.MustCompile(`\b(tid|pid|thread|of) [0-9]+\b|/proc/[0-9]+/`)
)

func (n *normalizer) str(s string) string {
	s = strings.ReplaceAll(s, n.dir+"/", "")
	s = hexRe.ReplaceAllStringFunc(s, func(h string) string {
		v, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil {
			return h
		}
		return fmt.Sprintf("0x%0*x", len(h)-2, n.addr(v))
	})
	return idRe.ReplaceAllStringFunc(s, func(w string) string {
		if num, ok := strings.CutPrefix(w, "/proc/"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(num, "/"), 10, 64)
			return fmt.Sprintf("/proc/%d/", n.id(v))
		}
		word, num, _ := strings.Cut(w, " ")
		v, _ := strconv.ParseInt(num, 10, 64)
		return fmt.Sprintf("%s %d", word, n.id(v))
	})
}

func (n *normalizer) err(err error) error {
	if err == nil || errors.Is(err, debugger.ErrQuit) {
		return err
	}
	return errors.New(n.str(err.Error()))
}

// walk rewrites every address, id, measurement and string reachable from
// v, visiting map entries in key order so that stand-ins are numbered the
// same way on every run.
func (n *normalizer) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			n.walk(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			switch name := v.Type().Field(i).Name; {
			case f.Kind() == reflect.Int && (name == "Tid" || name == "Pid" || name == "Thread"):
				f.SetInt(n.id(f.Int()))
			default:
				n.walk(f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			n.walk(v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			n.walk(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Array:
		if v.Len() == 32 && v.Type().Elem().Kind() == reflect.Uint8 {
			var d [32]byte
			reflect.Copy(reflect.ValueOf(&d).Elem(), v)
			if d == ([32]byte{}) {
				return
			}
			nd, ok := n.digests[d]
			if !ok {
				for i := range nd {
					nd[i] = byte(0x11 * (len(n.digests) + 1))
				}
				n.digests[d] = nd
			}
			reflect.Copy(v, reflect.ValueOf(nd))
			return
		}
		for i := 0; i < v.Len(); i++ {
			n.walk(v.Index(i))
		}
	case reflect.Uint64:
		v.SetUint(n.addr(v.Uint()))
	case reflect.String:
		v.SetString(n.str(v.String()))
	}
}
