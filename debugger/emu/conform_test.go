package emu

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
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

// The conformance enclave (testdata/encl.S) and host (testdata/conform.c).
type conformEnclave struct {
	nssa       uint32
	attributes sgx.AttributeFlags
	code       []byte
	cpu        CPUModel // the emulated processor ("": the default)
}

const (
	offCode     = 0x0000
	offData     = 0x1000
	offRO       = 0x2000
	offTCS      = 0x3000
	offSSA      = 0x4000
	conformSize = 0x8000
)

type blobPage struct {
	off     uint64
	flags   sgx.SecinfoFlags
	measure bool
	data    []byte
}

func (c conformEnclave) pages() []blobPage {
	code := make([]byte, sgx.PageSize)
	copy(code, c.code)
	tcs := sgx.TCS{OSSA: offSSA, NSSA: c.nssa, OENTRY: offCode, OFSBASGX: offData, OGSBASGX: offData}
	tb, _ := tcs.MarshalBinary()
	ro := make([]byte, sgx.PageSize)
	copy(ro, "read-only page")
	ps := []blobPage{
		{offCode, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoX), true, code},
		{offData, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW), true, make([]byte, sgx.PageSize)},
		{offRO, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR), true, ro},
		{offTCS, sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0), true, tb},
	}
	for i := uint32(0); i < c.nssa; i++ {
		ps = append(ps, blobPage{offSSA + uint64(i)*sgx.PageSize, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW), false, make([]byte, sgx.PageSize)})
	}
	return ps
}

func (c conformEnclave) mrenclave(t *testing.T) [32]byte {
	m := sgx.NewMeasurement(conformSize, 1)
	for _, p := range c.pages() {
		if err := m.AddPage(p.off, p.flags, p.data, p.measure); err != nil {
			t.Fatal(err)
		}
	}
	return m.Sum()
}

func (c conformEnclave) blob() []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(uint64(conformSize))
	w(uint32(1)) // SSAFRAMESIZE
	w(uint32(1)) // MISCSELECT: EXINFO
	w(uint64(c.attributes))
	w(uint64(3)) // XFRM
	ps := c.pages()
	w(uint32(len(ps)))
	w(uint32(offTCS))
	for _, p := range ps {
		w(p.off)
		w(uint64(p.flags))
		m := uint64(0)
		if p.measure {
			m = sgx.PageMeasure
		}
		w(m)
		b.Write(p.data)
	}
	return b.Bytes()
}

var (
	conformOnce  sync.Once
	conformBin   string
	conformCode  []byte
	conformKey   *rsa.PrivateKey
	conformSyms  map[string]uint64
	conformError error
)

// buildConform compiles the host and assembles the enclave code once.
func buildConform(t *testing.T) (string, []byte, *rsa.PrivateKey) {
	t.Helper()
	conformOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sgxdbg-conform")
		if err != nil {
			conformError = err
			return
		}
		run := func(args ...string) error {
			out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
			if err != nil {
				return errors.New(strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out))
			}
			return nil
		}
		conformBin = filepath.Join(dir, "conform")
		if conformError = run("gcc", "-O1", "-pthread", "-o", conformBin, "testdata/conform.c", "testdata/enclu.S"); conformError != nil {
			return
		}
		obj, bin := filepath.Join(dir, "encl.o"), filepath.Join(dir, "encl.bin")
		if conformError = run("gcc", "-c", "-o", obj, "testdata/encl.S"); conformError != nil {
			return
		}
		if conformError = run("objcopy", "-O", "binary", "-j", ".text", obj, bin); conformError != nil {
			return
		}
		conformCode, conformError = os.ReadFile(bin)
		if conformError != nil {
			return
		}
		out, err := exec.Command("nm", obj).Output()
		if err != nil {
			conformError = err
			return
		}
		conformSyms = map[string]uint64{}
		for _, line := range strings.Split(string(out), "\n") {
			var off uint64
			var typ, name string
			if n, _ := fmt.Sscanf(line, "%x %s %s", &off, &typ, &name); n == 3 {
				conformSyms[name] = off
			}
		}
		if conformError == nil {
			conformKey, conformError = sgx.GenerateKey(rand.Reader)
		}
	})
	if conformError != nil {
		t.Fatal(conformError)
	}
	return conformBin, conformCode, conformKey
}

type conformRun struct {
	out    string
	status ExitStatus
	events []Event
}

// runConform signs the enclave (tweak alters the SIGSTRUCT before signing,
// corrupt after), runs the
// host's scenario under the emulator and collects what happened.
func runConform(t *testing.T, c conformEnclave, tweak, corrupt func(*sgx.SigStruct), onEvent func(*Emulator, Event), scenario ...string) conformRun {
	t.Helper()
	bin, code, key := buildConform(t)
	if c.nssa == 0 {
		c.nssa = 2
	}
	if c.attributes == 0 {
		c.attributes = sgx.AttrDebug | sgx.AttrMode64Bit
	}
	c.code = code
	dir := t.TempDir()
	blob, sigPath := filepath.Join(dir, "blob"), filepath.Join(dir, "sig")
	if err := os.WriteFile(blob, c.blob(), 0o644); err != nil {
		t.Fatal(err)
	}
	sig := sgx.NewSigStruct()
	sig.EnclaveHash = c.mrenclave(t)
	sig.Attributes = sgx.Attributes{Flags: c.attributes, XFRM: 3}
	sig.AttributeMask = sgx.Attributes{Flags: ^sgx.AttributeFlags(0), XFRM: ^uint64(0)}
	sig.MiscSelect, sig.MiscMask = sgx.MiscEXINFO, 0xffffffff
	if tweak != nil {
		tweak(sig)
	}
	if err := sgx.Sign(sig, key, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if corrupt != nil {
		corrupt(sig)
	}
	raw, _ := sig.MarshalBinary()
	if err := os.WriteFile(sigPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var r conformRun
	tr := ptrace.NewTracer()
	defer tr.Close()
	err = tr.Do(func() error {
		var em *Emulator
		opts := Options{
			Path:  bin,
			Args:  append([]string{bin, blob, sigPath}, scenario...),
			Files: []*os.File{os.Stdin, out, out},
			CPU:   c.cpu,
			OnEvent: func(ev Event) {
				r.events = append(r.events, ev)
				if onEvent != nil {
					onEvent(em, ev)
				}
			},
		}
		var err error
		if em, err = Start(opts); err != nil {
			return err
		}
		r.status, err = em.Wait()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(outPath)
	r.out = string(b)
	return r
}

func (r conformRun) find(kind EventKind) []Event {
	var out []Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r conformRun) kinds() string {
	var k []string
	for _, e := range r.events {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, " ")
}

func TestConformCleanEcall(t *testing.T) {
	r := runConform(t, conformEnclave{}, nil, nil, nil, "enter", "0")
	if !strings.Contains(r.out, "returned 42\n") || r.status.ShellCode() != 0 {
		t.Fatalf("host output %q status %+v", r.out, r.status)
	}
	want := "enclave-created pages-added pages-added pages-added pages-added pages-added pages-added enclave-initialized eenter eexit enclave-removed exit"
	if got := r.kinds(); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if ee := r.find(EvEENTER); len(ee) != 1 || ee[0].CSSA != 0 {
		t.Errorf("eenter events %+v", ee)
	}
}

func TestConformDump(t *testing.T) {
	if os.Getenv("CONFORM_DUMP") == "" {
		t.Skip("set CONFORM_DUMP=scenario,arg to print a run")
	}
	args := strings.Split(os.Getenv("CONFORM_DUMP"), ",")
	r := runConform(t, conformEnclave{}, nil, nil, nil, args...)
	for _, e := range r.events {
		t.Log(e)
	}
	t.Logf("out:\n%s\nstatus %+v", r.out, r.status)
}

// A host that forks and execs a program keeps working: the child is
// traced too (the seccomp filter is inherited and needs a tracer), gets no
// enclave mappings, and the parent's enclave still works afterwards.
func TestConformForkExec(t *testing.T) {
	r := runConform(t, conformEnclave{}, nil, nil, nil, "fork")
	if !strings.Contains(r.out, "child ran\nchild exited 7\n") || !strings.Contains(r.out, "returned 42\n") {
		t.Fatalf("host output %q", r.out)
	}
	if r.status.ShellCode() != 0 {
		t.Errorf("status %+v", r.status)
	}
}
