package emu

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// hostKit holds what the benchmarks and robustness tests run: the hosts
// testdata/bench.c and testdata/robust.c, a UD2 loop (the bare-trap
// baseline), the enclave code of testdata/loop_encl.S and a signing key.
// It is built once per test binary.
type hostKit struct {
	dir     string
	bench   string
	robust  string
	ud2loop string
	code    []byte
	key     *rsa.PrivateKey
}

var (
	kitOnce sync.Once
	kit     *hostKit
	kitErr  error
)

func buildKit(tb testing.TB) *hostKit {
	tb.Helper()
	kitOnce.Do(func() { kit, kitErr = makeKit() })
	if kitErr != nil {
		tb.Fatal(kitErr)
	}
	return kit
}

func makeKit() (*hostKit, error) {
	dir, err := os.MkdirTemp("", "sgxdbg-hostkit")
	if err != nil {
		return nil, err
	}
	k := &hostKit{dir: dir, bench: filepath.Join(dir, "bench"), robust: filepath.Join(dir, "robust"), ud2loop: filepath.Join(dir, "ud2loop")}
	ud2src := filepath.Join(dir, "ud2loop.c")
	if err := os.WriteFile(ud2src, []byte("int main(void) { for (;;) __asm__ volatile(\"ud2\"); }\n"), 0o644); err != nil {
		return nil, err
	}
	obj, bin := filepath.Join(dir, "loop_encl.o"), filepath.Join(dir, "loop_encl.bin")
	for _, args := range [][]string{
		{"gcc", "-O2", "-Wall", "-Werror", "-pthread", "-o", k.bench, "testdata/bench.c"},
		{"gcc", "-O2", "-Wall", "-Werror", "-pthread", "-o", k.robust, "testdata/robust.c"},
		{"gcc", "-O2", "-o", k.ud2loop, ud2src},
		{"gcc", "-c", "-o", obj, "testdata/loop_encl.S"},
		{"objcopy", "-O", "binary", "-j", ".text", obj, bin},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			return nil, errors.New(strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out))
		}
	}
	if k.code, err = os.ReadFile(bin); err != nil {
		return nil, err
	}
	if k.key, err = sgx.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	return k, nil
}

// writeSigned writes c's blob (conform_test.go's format) and a SIGSTRUCT
// signed for it into dir, the way runConform signs, and returns their paths.
// c.code defaults to loop_encl.S.
func (k *hostKit) writeSigned(tb testing.TB, dir string, c conformEnclave) (blob, sig string) {
	tb.Helper()
	if c.nssa == 0 {
		c.nssa = 2
	}
	if c.attributes == 0 {
		c.attributes = sgx.AttrDebug | sgx.AttrMode64Bit
	}
	if c.code == nil {
		c.code = k.code
	}
	m := sgx.NewMeasurement(conformSize, 1)
	for _, p := range c.pages() {
		if err := m.AddPage(p.off, p.flags, p.data, p.measure); err != nil {
			tb.Fatal(err)
		}
	}
	s := sgx.NewSigStruct()
	s.EnclaveHash = m.Sum()
	s.Attributes = sgx.Attributes{Flags: c.attributes, XFRM: 3}
	s.AttributeMask = sgx.Attributes{Flags: ^sgx.AttributeFlags(0), XFRM: ^uint64(0)}
	s.MiscSelect, s.MiscMask = sgx.MiscEXINFO, 0xffffffff
	blob, sig = filepath.Join(dir, "blob"), filepath.Join(dir, "sig")
	if err := os.WriteFile(blob, c.blob(), 0o644); err != nil {
		tb.Fatal(err)
	}
	k.sign(tb, s, sig)
	return blob, sig
}

// sign signs s with the kit's key and writes it to path.
func (k *hostKit) sign(tb testing.TB, s *sgx.SigStruct, path string) {
	tb.Helper()
	if err := sgx.Sign(s, k.key, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); err != nil {
		tb.Fatal(err)
	}
	raw, err := s.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// hostRun is one host program run under the emulator.
type hostRun struct {
	status   ExitStatus
	pid      int
	elapsed  time.Duration // from launch to the host's exit
	out      string        // stdout and stderr
	threads  []ThreadInfo  // what the emulator still tracked after the exit
	enclaves []EnclaveInfo
}

// runHost runs argv under the emulator on tr. onEvent, if set, is called
// for every event with the emulator (for its Pid).
func runHost(tb testing.TB, tr *ptrace.Tracer, argv []string, onEvent func(*Emulator, Event)) hostRun {
	tb.Helper()
	outF, err := os.CreateTemp(tb.TempDir(), "out")
	if err != nil {
		tb.Fatal(err)
	}
	defer outF.Close()
	var r hostRun
	err = tr.Do(func() error {
		var em *Emulator
		opts := Options{Path: argv[0], Args: argv, Files: []*os.File{os.Stdin, outF, outF}}
		if onEvent != nil {
			opts.OnEvent = func(ev Event) { onEvent(em, ev) }
		}
		start := time.Now()
		var err error
		if em, err = Start(opts); err != nil {
			return err
		}
		r.pid = em.Pid()
		r.status, err = em.Wait()
		r.elapsed = time.Since(start)
		r.threads, r.enclaves = em.Threads(), em.Enclaves()
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(outF.Name())
	if err != nil {
		tb.Fatal(err)
	}
	r.out = string(b)
	return r
}

// eventLog records a run's events.
type eventLog []Event

func (l *eventLog) record(_ *Emulator, ev Event) { *l = append(*l, ev) }

// kinds returns the event names, space separated.
func (l eventLog) kinds() string {
	var k []string
	for _, e := range l {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, " ")
}
