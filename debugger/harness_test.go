package debugger_test

// The harness of the session tests: it runs the sample host and a sample
// enclave (enclaves/debug) under the emulator through debugger.Launch, and
// derives what the tests expect from independent sources — nm and
// addr2line for symbols and lines, the enclave image for the layout and
// page contents, /proc/PID/maps for the host's load address.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// run is one sample host under a session.
type run struct {
	t        testing.TB
	s        *debugger.Session
	dir      string
	host     string
	elf      string
	im       *enclave.Image
	out, err *os.File // the host's stdout and stderr
	status   int
	exited   bool
}

// start launches `host --no-vdso FLAGS… NAME.elf NAME.elf.sig ARGS…` under a session
// with the policy; the host's stdout and stderr go to files.
func start(t testing.TB, policy debugger.Policy, flags []string, name string, args ...string) *run {
	t.Helper()
	// --no-vdso: the host enters through its own ENCLU, so every AEX
	// reaches it as a signal at host_aep, which the tests predict exactly.
	return startHost(t, policy, append([]string{"--no-vdso"}, flags...), name, args...)
}

// startHost launches `host FLAGS… NAME.elf NAME.elf.sig ARGS…`: without
// --no-vdso the host calls the enclave through the vDSO when there is one.
func startHost(t testing.TB, policy debugger.Policy, flags []string, name string, args ...string) *run {
	t.Helper()
	dir := fixtures.Samples(t)
	r := &run{t: t, dir: dir, host: filepath.Join(dir, "host"), elf: filepath.Join(dir, name+".elf")}
	im, err := enclave.Open(r.elf)
	if err != nil {
		t.Fatal(err)
	}
	r.im = im
	tmp := t.TempDir()
	if r.out, err = os.Create(filepath.Join(tmp, "stdout")); err != nil {
		t.Fatal(err)
	}
	if r.err, err = os.Create(filepath.Join(tmp, "stderr")); err != nil {
		t.Fatal(err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{r.host}, flags...)
	argv = append(argv, r.elf, r.elf+".sig")
	argv = append(argv, args...)
	s, err := debugger.Launch(emu.Backend, target.LaunchOptions{Path: r.host, Args: argv, Files: []*os.File{null, r.out, r.err}},
		debugger.Options{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	t.Cleanup(func() {
		if err := s.Kill(); err != nil {
			t.Errorf("kill: %v", err)
		}
		s.Close()
		im.Close()
		null.Close()
		r.out.Close()
		r.err.Close()
	})
	return r
}

// hangLimit is how long a Wait or a command may take before the test
// calls it a hang (a deadlock detector, not a timing assertion: every
// step here takes milliseconds).
const hangLimit = 2 * time.Minute

// noHang runs f, failing the test (and killing the host) if it does not
// return within hangLimit.
func (r *run) noHang(what string, f func()) {
	r.t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(hangLimit):
		_ = r.s.Kill()
		r.t.Fatalf("%s hangs", what)
	}
}

// wait is Session.Wait under the hang detector.
func (r *run) wait() (debugger.Stopped, error) {
	r.t.Helper()
	var st debugger.Stopped
	var err error
	r.noHang("wait", func() { st, err = r.s.Wait() })
	return st, err
}

// stop waits for the next stop; the host must not have exited.
func (r *run) stop() target.Event {
	r.t.Helper()
	st, err := r.wait()
	if err != nil {
		r.t.Fatalf("wait: %v", err)
	}
	if st.Exited {
		r.t.Fatalf("the host exited with status %d, want a stop; stderr: %q", st.Status, r.stderr())
	}
	return st.Event
}

// end waits for the host's end (it must not stop again) and returns its
// status.
func (r *run) end() int {
	r.t.Helper()
	st, err := r.wait()
	if err != nil {
		r.t.Fatalf("wait: %v", err)
	}
	if !st.Exited {
		r.t.Fatalf("stopped at %s, want the host's end", st.Event)
	}
	r.exited, r.status = true, st.Status
	return st.Status
}

// exec runs a command that must succeed and returns its result's JSON.
func (r *run) exec(cmd string) string {
	r.t.Helper()
	var res debugger.Result
	var err error
	r.noHang(cmd, func() { res, err = r.s.Exec(cmd) })
	if err != nil {
		r.t.Fatalf("%s: %v", cmd, err)
	}
	return jsonOf(r.t, res)
}

// result runs a command that must succeed and decodes its JSON into v.
func (r *run) result(cmd string, v any) {
	r.t.Helper()
	if err := json.Unmarshal([]byte(r.exec(cmd)), v); err != nil {
		r.t.Fatalf("%s: decode: %v", cmd, err)
	}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// canon re-encodes a JSON text with sorted keys.
func canon(t testing.TB, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return jsonOf(t, v)
}

func (r *run) stdout() string { return readAll(r.t, r.out) }
func (r *run) stderr() string { return readAll(r.t, r.err) }

func readAll(t testing.TB, f *os.File) string {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// base is the enclave's base address, from its enclave-created event.
func (r *run) base() uint64 {
	r.t.Helper()
	for _, ev := range r.s.Timeline() {
		if ev.Kind == target.EvEnclaveCreated {
			return ev.Enclave
		}
	}
	r.t.Fatal("no enclave-created event")
	return 0
}

// pid is the host's pid, from its enclave-created event.
func (r *run) pid() int {
	r.t.Helper()
	for _, ev := range r.s.Timeline() {
		if ev.Kind == target.EvEnclaveCreated {
			return ev.Pid
		}
	}
	r.t.Fatal("no enclave-created event")
	return 0
}

// sym is the address of an enclave symbol, by nm.
func (r *run) sym(name string) uint64 { return r.base() + nm(r.t, r.elf, name) }

// tcs is the address of TCS i, from the image's layout.
func (r *run) tcs(i int) uint64 { return r.base() + r.im.TCS[i].Offset }

// ssaFrame is the address of SSA frame i of TCS n.
func (r *run) ssaFrame(n, i int) uint64 {
	return r.base() + r.im.TCS[n].TCS.OSSA + uint64(i)*uint64(r.im.SSAFrameSize)*enclave.PageSize
}

// hostAEP is where the host's own ENCLU returns after an AEX: host_aep in
// the host executable, at its load address in /proc/PID/maps.
func (r *run) hostAEP() uint64 {
	r.t.Helper()
	return hostBase(r.t, r.pid(), r.host) + nm(r.t, r.host, "host_aep")
}

// imageBytes returns n bytes of the image at offset off (the enclave's
// initial contents).
func (r *run) imageBytes(off uint64, n int) []byte {
	r.t.Helper()
	p := r.im.Page(off &^ (enclave.PageSize - 1))
	if p == nil || int(off%enclave.PageSize)+n > len(p.Data) {
		r.t.Fatalf("no image bytes at %#x", off)
	}
	return p.Data[off%enclave.PageSize:][:n]
}

// source is the file:line of an enclave address by addr2line, relative to
// the samples' source directory (as the image's line table names it).
func (r *run) source(addr uint64) string {
	r.t.Helper()
	off := addr - r.base()
	out, err := exec.Command("addr2line", "-e", r.elf, fmt.Sprintf("%#x", off)).Output()
	if err != nil {
		r.t.Fatalf("addr2line %s %#x: %v", r.elf, off, err)
	}
	line := strings.TrimSpace(string(out))
	if i := strings.Index(line, "enclaves/debug/"); i >= 0 {
		line = line[i+len("enclaves/debug/"):]
	}
	return line
}

// nm reads a symbol's value with binutils' nm.
func nm(t testing.TB, file, name string) uint64 {
	t.Helper()
	out, err := exec.Command("nm", file).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", file, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var v uint64
		var typ, sym string
		if n, _ := fmt.Sscanf(line, "%x %s %s", &v, &typ, &sym); n == 3 && sym == name {
			return v
		}
	}
	t.Fatalf("nm %s: no symbol %s", file, name)
	return 0
}

// hostBase is the load address of the executable path in process pid: the
// start of its mapping at file offset 0.
func hostBase(t testing.TB, pid int, path string) uint64 {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != path || f[2] != "00000000" {
			continue
		}
		lo, _, _ := strings.Cut(f[0], "-")
		v, err := strconv.ParseUint(lo, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Fatalf("%s is not mapped in process %d", path, pid)
	return 0
}

func hx(v uint64) string { return fmt.Sprintf("%#x", v) }

// aexJSON is the exact JSON of an AEX event (keys sorted).
func aexJSON(t testing.TB, tid int, encl, tcs uint64, ssa, cssa int, vector uint8, name, exitType string,
	maddr uint64, errcd uint32, rip, aep uint64, signal string) string {
	t.Helper()
	return jsonOf(t, map[string]any{"event": "aex", "tid": tid, "enclave": hx(encl), "tcs": hx(tcs), "ssa": ssa,
		"cssa": cssa, "vector": vector, "vector_name": name, "exit_type": exitType, "valid": true,
		"maddr": hx(maddr), "errcd": hx(uint64(errcd)), "rip": hx(rip), "aep": hx(aep), "signal": signal})
}

// frameJSON is the exact JSON of an SSA frame view without its GPRs
// (which the test checks one by one where they are known).
type frameWant struct {
	Index      int    `json:"index"`
	Addr       string `json:"addr"`
	Vector     uint8  `json:"vector"`
	VectorName string `json:"vector_name"`
	ExitType   string `json:"exit_type"`
	Valid      bool   `json:"valid"`
	MAddr      string `json:"maddr,omitempty"`
	ErrCd      string `json:"errcd,omitempty"`
	ErrWords   string `json:"errcd_words,omitempty"`
	RIP        string `json:"rip"`
	Symbol     string `json:"symbol,omitempty"`
	Source     string `json:"source,omitempty"`
	Quirk      string `json:"quirk,omitempty"`
}

// ssaView is the decoded JSON of the ssa command.
type ssaView struct {
	TCS    string           `json:"tcs"`
	CSSA   uint32           `json:"cssa"`
	NSSA   uint32           `json:"nssa"`
	Frames []map[string]any `json:"frames"`
}

// frames runs `ssa` and returns its header and frames split into the part
// compared exactly and the GPRs.
func (r *run) frames() (ssaView, []string, []map[string]string) {
	r.t.Helper()
	var v ssaView
	r.result("ssa", &v)
	var exact []string
	var gprs []map[string]string
	for _, f := range v.Frames {
		g := map[string]string{}
		for k, x := range f["gprs"].(map[string]any) {
			g[k] = x.(string)
		}
		delete(f, "gprs")
		exact = append(exact, jsonOf(r.t, f))
		gprs = append(gprs, g)
	}
	return v, exact, gprs
}

func (f frameWant) json(t testing.TB) string { return canon(t, jsonOf(t, f)) }

// check compares got and want, naming what; two JSON texts are compared
// with their keys sorted.
func check(t testing.TB, what, got, want string) {
	t.Helper()
	if json.Valid([]byte(got)) && json.Valid([]byte(want)) && strings.HasPrefix(strings.TrimSpace(want), "{") ||
		strings.HasPrefix(strings.TrimSpace(want), "[") {
		got, want = canon(t, got), canon(t, want)
	}
	if got != want {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// lastEvents returns the kinds of the timeline's events after the first n.
func kindsAfter(evs []target.Event, n int) string {
	var b bytes.Buffer
	for _, ev := range evs[n:] {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(ev.Kind))
	}
	return b.String()
}
