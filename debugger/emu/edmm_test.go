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

	"github.com/sgxdbg/sgxdbg/coredump"
	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// The SGX2 host testdata/edmm.c and its enclave testdata/edmm_encl.S.
const edmmSize = 0x20000

var (
	edmmOnce sync.Once
	edmmBin  string
	edmmCode []byte
	edmmKey  *rsa.PrivateKey
	edmmErr  error
)

func buildEDMM(t *testing.T) {
	t.Helper()
	edmmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sgxdbg-edmm")
		if err != nil {
			edmmErr = err
			return
		}
		edmmBin = filepath.Join(dir, "edmm")
		obj, bin := filepath.Join(dir, "edmm_encl.o"), filepath.Join(dir, "edmm_encl.bin")
		for _, args := range [][]string{
			{"gcc", "-O2", "-Wall", "-Werror", "-o", edmmBin, "testdata/edmm.c"},
			{"gcc", "-c", "-o", obj, "testdata/edmm_encl.S"},
			{"objcopy", "-O", "binary", "-j", ".text", obj, bin},
		} {
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				edmmErr = errors.New(strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out))
				return
			}
		}
		if edmmCode, edmmErr = os.ReadFile(bin); edmmErr != nil {
			return
		}
		edmmKey, edmmErr = sgx.GenerateKey(rand.Reader)
	})
	if edmmErr != nil {
		t.Fatal(edmmErr)
	}
}

// edmmPages is the enclave edmm.c expects: code at 0, data at 0x1000, two
// TCS at 0x2000 and 0x3000 with two SSA frames each from 0x4000 and
// 0x6000, a RW page at 0x8000 and a R page at 0x9000.
func edmmPages(aexNotify bool) []blobPage {
	rw := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
	code := make([]byte, sgx.PageSize)
	copy(code, edmmCode)
	ps := []blobPage{
		{0, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoX), true, code},
		{0x1000, rw, true, make([]byte, sgx.PageSize)},
	}
	for i, ossa := range []uint64{0x4000, 0x6000} {
		tcs := sgx.TCS{OSSA: ossa, NSSA: 2, OENTRY: 0, OFSBASGX: 0x1000, OGSBASGX: 0x1000}
		if aexNotify {
			tcs.Flags = sgx.TCSAEXNotify
		}
		tb, _ := tcs.MarshalBinary()
		ps = append(ps, blobPage{uint64(0x2000 + i*0x1000), sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0), true, tb})
	}
	for off := uint64(0x4000); off < 0x8000; off += sgx.PageSize {
		ps = append(ps, blobPage{off, rw, false, make([]byte, sgx.PageSize)})
	}
	ps = append(ps, blobPage{0x8000, rw, true, make([]byte, sgx.PageSize)},
		blobPage{0x9000, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR), true, make([]byte, sgx.PageSize)})
	return ps
}

// writeEDMM writes the enclave's blob (conform.c's format) and its signed
// SIGSTRUCT into dir.
func writeEDMM(t *testing.T, dir string, aexNotify bool) (string, string) {
	attrs := sgx.AttrDebug | sgx.AttrMode64Bit
	if aexNotify {
		attrs |= sgx.AttrAEXNotify
	}
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(uint64(edmmSize))
	w(uint32(1))
	w(uint32(sgx.MiscEXINFO))
	w(uint64(attrs))
	w(uint64(3))
	ps := edmmPages(aexNotify)
	w(uint32(len(ps)))
	w(uint32(0x2000))
	m := sgx.NewMeasurement(edmmSize, 1)
	for _, p := range ps {
		w(p.off)
		w(uint64(p.flags))
		meas := uint64(0)
		if p.measure {
			meas = sgx.PageMeasure
		}
		w(meas)
		b.Write(p.data)
		if err := m.AddPage(p.off, p.flags, p.data, p.measure); err != nil {
			t.Fatal(err)
		}
	}
	s := sgx.NewSigStruct()
	s.EnclaveHash = m.Sum()
	s.Attributes = sgx.Attributes{Flags: attrs, XFRM: 3}
	s.AttributeMask = sgx.Attributes{Flags: ^sgx.AttributeFlags(0), XFRM: ^uint64(0)}
	s.MiscSelect, s.MiscMask = sgx.MiscEXINFO, 0xffffffff
	if err := sgx.Sign(s, edmmKey, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	raw, _ := s.MarshalBinary()
	blob, sig := filepath.Join(dir, "blob"), filepath.Join(dir, "sig")
	if err := os.WriteFile(blob, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sig, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return blob, sig
}

type edmmRun struct {
	out      string
	status   ExitStatus
	events   eventLog
	enclaves []EnclaveInfo // at the last pages-changed event
	reads    []string      // EDBGRD of the first changed page at each pages-changed event
	// aexNotify is the AEXNOTIFY byte of the SSA frame each AEX wrote.
	aexNotify []byte
	cores     [][]byte // a core file written at each AEX
}

// coreSource is what coredump.Write reads, at an event of a running
// emulator (tracer thread only).
type coreSource struct {
	em *Emulator
	ev Event
}

func (c coreSource) Event() target.Event          { return c.ev }
func (c coreSource) Pending() target.Delivery     { return c.ev.Delivery }
func (c coreSource) Enclaves() []EnclaveInfo      { return c.em.Enclaves() }
func (c coreSource) Threads() []target.ThreadInfo { return c.em.Threads() }
func (c coreSource) ReadEnclave(buf []byte, addr uint64) (int, error) {
	return c.em.ReadEnclave(c.ev.Pid, buf, addr)
}
func (c coreSource) Regs() (target.Regs, error) {
	r, err := ptrace.GetRegs(c.ev.Tid)
	return target.Regs(r), err
}

// runEDMM runs one scenario of edmm.c on the model cpu.
func runEDMM(t *testing.T, cpu CPUModel, scenario string) edmmRun {
	t.Helper()
	return runEDMMWith(t, cpu, scenario, false)
}

// runEDMMWith runs a scenario, the enclave and its TCS opted in to
// AEX-Notify when aexNotify is set.
func runEDMMWith(t *testing.T, cpu CPUModel, scenario string, aexNotify bool) edmmRun {
	t.Helper()
	buildEDMM(t)
	dir := t.TempDir()
	blob, sig := writeEDMM(t, dir, aexNotify)
	outF, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outF.Close()
	var r edmmRun
	tr := ptrace.NewTracer()
	defer tr.Close()
	err = tr.Do(func() error {
		var em *Emulator
		opts := Options{Path: edmmBin, Args: []string{edmmBin, blob, sig, scenario}, Files: []*os.File{os.Stdin, outF, outF},
			CPU: cpu, OnEvent: func(ev Event) {
				r.events = append(r.events, ev)
				if ev.Kind == EvAEX {
					var core bytes.Buffer
					if _, err := coredump.Write(&core, coreSource{em, ev}, coredump.Options{}); err != nil {
						t.Errorf("core file at %v: %v", ev, err)
					}
					r.cores = append(r.cores, core.Bytes())
					// SSA frame ev.SSA's AEXNOTIFY byte (GPRSGX offset 167).
					var b [1]byte
					ossa := map[uint64]uint64{0x2000: 0x4000, 0x3000: 0x6000}[ev.TCS-ev.Enclave] // edmmPages
					frame := ossa + uint64(ev.SSA)*sgx.PageSize
					if _, err := em.ReadEnclave(ev.Pid, b[:], ev.Enclave+frame+sgx.PageSize-184+167); err == nil {
						r.aexNotify = append(r.aexNotify, b[0])
					}
				}
				if ev.Kind == EvPagesChanged {
					r.enclaves = em.Enclaves() // as the last change left them
					// What EDBGRD says of the page now.
					var b [8]byte
					_, err := em.ReadEnclave(ev.Pid, b[:], ev.Enclave+ev.Offset)
					var dae *target.DebugAccessError
					switch {
					case err == nil:
						r.reads = append(r.reads, "ok")
					case errors.As(err, &dae):
						r.reads = append(r.reads, dae.Code.String())
					default:
						r.reads = append(r.reads, err.Error())
					}
				}
			}}
		if em, err = Start(opts); err != nil {
			return err
		}
		r.status, err = em.Wait()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(outF.Name())
	r.out = string(b)
	return r
}

// checkLines compares the host's output line by line.
func checkLines(t *testing.T, got string, want []string) {
	t.Helper()
	g := strings.Split(strings.TrimRight(got, "\n"), "\n")
	for i := range max(len(g), len(want)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(want) {
			b = want[i]
		}
		if a != b {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, a, b)
		}
	}
}

// aexes returns each AEX's vector, error code, MADDR (from the enclave
// base) and delivery.
func (r edmmRun) aexes() []string {
	var out []string
	for _, e := range r.events {
		if e.Kind == EvAEX {
			maddr := fmt.Sprintf("%#x", e.MAddr)
			if e.MAddr >= e.Enclave {
				maddr = fmt.Sprintf("+%#x", e.MAddr-e.Enclave)
			}
			out = append(out, fmt.Sprintf("%s %#x %s %s", e.VectorName(), e.ErrCd, maddr, e.Delivery))
		}
	}
	return out
}

// changes returns the pages-changed events: why, offset, length, state.
func (r edmmRun) changes() []string {
	var out []string
	for _, e := range r.events {
		if e.Kind == EvPagesChanged {
			out = append(out, fmt.Sprintf("%s +%#x %#x %v", e.Reason, e.Offset, e.Length, e.Secinfo))
		}
	}
	return out
}

// Item 4 of the fidelity issue, through the vDSO: mprotect may not exceed
// a page's build-time rights (EACCES); a write to a present page the host
// made read-only is a page-table #PF, error code 0x7 (P|W|U) with no SGX
// bit, in struct sgx_enclave_run; giving the rights back and ERESUMEing
// through the vDSO finishes the write (the kernel selftest
// pte_permissions).
func TestEDMMPTEPermissions(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "pte")
	checkLines(t, r.out, []string{
		"put: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"mprotect R: ret 0 errno 0",
		"mprotect RWX: ret -1 errno 13",
		"mprotect code RW: ret -1 errno 13",
		"put read-only: ret 0 function 3 vector 14 errcd 0x7 addr +0x8000 value 0x8877665544332211 ret 0 cssa 0",
		"mprotect RW: ret 0 errno 0",
		"eresume: ret 0 function 4 value 0x8877665544332211 ret 0 cssa 0",
		"get: ret 0 function 4 value 0x8877665544332211 ret 0 cssa 0",
		"mprotect both TCS RW: ret 0 errno 0",
		"put tcs: ret 0 function 3 vector 14 errcd 0x8007 addr +0x3000 value 0x1122334455667788 ret 0 cssa 0",
	})
	if got, want := strings.Join(r.aexes(), "; "), "#PF 0x7 +0x8000 vdso-fixup; #PF 0x8007 +0x3010 vdso-fixup"; got != want {
		t.Errorf("AEXs %q, want %q", got, want)
	}
}

// The same fault through the signal path: SIGSEGV SEGV_ACCERR at the AEP
// with si_addr the page; the handler restores the rights and returns to
// the AEP's ENCLU, which ERESUMEs.
func TestEDMMPTEPermissionsSignal(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "pte-signal")
	checkLines(t, r.out, []string{
		"mprotect R: ret 0 errno 0",
		"signal 11 code 2 addr +0x8000 at aep rax 3",
		"put returned",
		"get: ret 0 function 4 value 0x8877665544332211 ret 0 cssa 0",
	})
	if got, want := strings.Join(r.aexes(), "; "), "#PF 0x6 +0x8000 SIGSEGV"; got != want {
		t.Errorf("AEXs %q, want %q", got, want)
	}
}

func TestEDMMDump(t *testing.T) {
	if dir := os.Getenv("EDMM_WRITE"); dir != "" {
		buildEDMM(t)
		blob, sig := writeEDMM(t, dir, os.Getenv("EDMM_AEXNOTIFY") != "")
		t.Logf("%s %s %s", edmmBin, blob, sig)
		return
	}
	s := os.Getenv("EDMM_DUMP")
	if s == "" {
		t.Skip("set EDMM_DUMP=scenario[,cpu] to print a run, or EDMM_WRITE=DIR to write the host's blob and SIGSTRUCT there")
	}
	sc, cpu, _ := strings.Cut(s, ",")
	r := runEDMMWith(t, CPUModel(cpu), sc, os.Getenv("EDMM_AEXNOTIFY") != "")
	t.Logf("out:\n%s\nstatus %+v\naex %q\nchanges %q\naexnotify %v\nevents:", r.out, r.status, r.aexes(), r.changes(), r.aexNotify)
	for _, e := range r.events {
		t.Log(e)
	}
}

// A write to a mapped address with no page: the driver EAUGs a PENDING
// page and the write, retried, takes the EPCM #PF 0x8007; EACCEPT from the
// other TCS, then ERESUME, finishes it (the kernel selftest augment).
func TestEDMMAugment(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "augment")
	checkLines(t, r.out, []string{
		"mmap +0x10000: ok",
		"maps +0x10000: rw-s /dev/sgx_enclave",
		"put: ret 0 function 3 vector 14 errcd 0x8007 addr +0x10000 value 0x1122334455667788 ret 0 cssa 0",
		"eaccept: ret 0 function 4 value 0 ret 0 cssa 0",
		"eresume: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"get: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
	})
	want := []string{"EAUG +0x10000 0x1000 R+W+PENDING+PT_REG", "EACCEPT +0x10000 0x1000 R+W+PT_REG"}
	if got := r.changes(); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("pages-changed %q, want %q", got, want)
	}
	if got, want := strings.Join(r.aexes(), "; "), "#PF 0x8007 +0x10000 vdso-fixup"; got != want {
		t.Errorf("AEXs %q, want %q", got, want)
	}
	// EDBGRD refuses a PENDING page (SDM EDBGRD: SGX_PAGE_NOT_DEBUGGABLE).
	if got, want := strings.Join(r.reads, " "), "SGX_PAGE_NOT_DEBUGGABLE ok"; got != want {
		t.Errorf("EDBGRD after each change: %q, want %q", got, want)
	}
	// A core file written at the AEX keeps the page's state, and not its
	// bytes (it could not be read).
	if len(r.cores) != 1 {
		t.Fatalf("%d core files", len(r.cores))
	}
	c, err := coredump.New(bytes.NewReader(r.cores[0]), int64(len(r.cores[0])))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Enclaves) != 1 {
		t.Fatalf("core enclaves %+v", c.Enclaves)
	}
	base := c.Enclaves[0].Base
	if si, ok := c.Enclaves[0].PageAt(base + 0x10000); !ok || si != sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)|sgx.SecinfoPending {
		t.Errorf("core: page +0x10000 %v %v, want R+W+PENDING+PT_REG", si, ok)
	}
	var w [8]byte
	if _, err := c.ReadMemory(w[:], base+0x10000); err == nil {
		t.Error("core: the PENDING page's bytes were read")
	}
	if _, err := c.ReadMemory(w[:], base+0x8000); err != nil {
		t.Errorf("core: a REG page: %v", err)
	}
}

// EMODPR through RESTRICT_PERMISSIONS, EACCEPT with PR, the EPCM #PF of a
// write, EMODPE from the other TCS and ERESUME (the kernel selftest
// epcm_permissions); a second EACCEPT no longer matches (PR and W changed):
// SGX_PAGE_ATTRIBUTES_MISMATCH.
func TestEDMMRestrictPermissions(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "restrict")
	checkLines(t, r.out, []string{
		"put: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"restrict R: ret 0 errno 0 result 0 count 0x1000",
		"eaccept: ret 0 function 4 value 0 ret 0 cssa 0",
		"get: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"put: ret 0 function 3 vector 14 errcd 0x8007 addr +0x8000 value 0x8877665544332211 ret 0 cssa 0",
		"emodpe: ret 0 function 4 value 0 ret 0 cssa 0",
		"eresume: ret 0 function 4 value 0x8877665544332211 ret 0 cssa 0",
		"get: ret 0 function 4 value 0x8877665544332211 ret 0 cssa 0",
		"eaccept again: ret 0 function 4 value 0 ret 19 cssa 0",
	})
	want := []string{"EMODPR +0x8000 0x1000 R+PR+PT_REG", "EACCEPT +0x8000 0x1000 R+PT_REG", "EMODPE +0x8000 0x1000 R+W+PT_REG"}
	if got := r.changes(); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("pages-changed %q, want %q", got, want)
	}
}

// The SDK's EDMM flow: pages committed by EACCEPT alone (its #PF makes the
// driver EAUG them, invisibly), EACCEPTCOPY of a page with R only, EMODPE,
// then trimming: MODIFY_TYPES to PT_TRIM, REMOVE_PAGES refused (EPERM,
// count 0) until the enclave EACCEPTs each page, then done; a page at a
// removed address is EAUGed afresh, zeroed.
func TestEDMMSDKFlow(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "sdk")
	checkLines(t, r.out, []string{
		"mmap +0x10000: ok",
		"commit: ret 0 function 4 value 0x4 ret 0 cssa 0",
		"put: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"get: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"eacceptcopy: ret 0 function 4 value +0x1000 ret 0 cssa 0",
		"get copy: ret 0 function 4 value 0x201 ret 0 cssa 0",
		"put copy: ret 0 function 3 vector 14 errcd 0x8007 addr +0x14000 value 0x1122334455667788 ret 0 cssa 0",
		"emodpe: ret 0 function 4 value 0 ret 0 cssa 0",
		"eresume: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"trim: ret 0 errno 0 result 0 count 0x5000",
		"remove unaccepted: ret -1 errno 1 count 0",
		"accept trim: ret 0 function 4 value 0x5 ret 0 cssa 0",
		"remove: ret 0 errno 0 count 0x5000",
		"commit again: ret 0 function 4 value 0x1 ret 0 cssa 0",
		"get new: ret 0 function 4 value 0 ret 0 cssa 0",
	})
	var want []string
	for off := 0x10000; off < 0x14000; off += 0x1000 {
		want = append(want, fmt.Sprintf("EAUG +%#x 0x1000 R+W+PENDING+PT_REG", off), fmt.Sprintf("EACCEPT +%#x 0x1000 R+W+PT_REG", off))
	}
	want = append(want, "EAUG +0x14000 0x1000 R+W+PENDING+PT_REG", "EACCEPTCOPY +0x14000 0x1000 R+PT_REG",
		"EMODPE +0x14000 0x1000 R+W+PT_REG", "EMODT +0x10000 0x5000 MODIFIED+PT_TRIM")
	for off := 0x10000; off < 0x15000; off += 0x1000 {
		want = append(want, fmt.Sprintf("EACCEPT +%#x 0x1000 PT_TRIM", off))
	}
	want = append(want, "EREMOVE +0x10000 0x5000 PT_SECS", "EAUG +0x10000 0x1000 R+W+PENDING+PT_REG", "EACCEPT +0x10000 0x1000 R+W+PT_REG")
	if got := r.changes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pages-changed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(r.enclaves) != 1 {
		t.Fatalf("enclaves at exit: %+v", r.enclaves)
	}
	var states []string
	for _, p := range r.enclaves[0].Pages {
		if p.Offset >= 0x10000 {
			states = append(states, fmt.Sprintf("+%#x %v", p.Offset, p.Secinfo))
		}
	}
	if got, want := strings.Join(states, "; "), "+0x10000 R+W+PT_REG"; got != want {
		t.Errorf("dynamic pages at exit %q, want %q", got, want)
	}
}

// The ioctls' checks, in the kernel's order, with its errnos, result and
// count (written back also on failure, left as given when the argument
// itself is refused).
func TestEDMMIoctlErrors(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "errors")
	checkLines(t, r.out, []string{
		"restrict zero: ret -1 errno 22 result 0 count 0",
		"restrict tcs: ret -1 errno 22 result 0 count 0",
		"restrict W: ret -1 errno 22 result 0 count 0",
		"restrict pending bit: ret -1 errno 22 result 0 count 0",
		"restrict count: ret -1 errno 22 result 0 count 0x1",
		"restrict past end: ret -1 errno 22 result 0 count 0",
		"restrict hole: ret -1 errno 14 result 0 count 0x1000",
		"modt reg: ret -1 errno 22 result 0 count 0",
		"modt wide: ret -1 errno 22 result 0 count 0",
		"modt ro to tcs: ret -1 errno 1 result 0 count 0",
		"modt tcs to tcs: ret -1 errno 22 result 0 count 0",
		"remove reg: ret -1 errno 1 count 0",
		"remove count: ret -1 errno 22 count 0x1000",
		"modt trim: ret 0 errno 0 result 0 count 0x1000",
		"modt trim again: ret -1 errno 22 result 0 count 0",
		"restrict trimmed: ret -1 errno 22 result 0 count 0",
		"get trimmed: ret 0 function 3 vector 14 errcd 0x8005 addr +0x8000 value 0 ret 0 cssa 0",
		"mmap +0x10000: ok",
		"put pending: ret 0 function 3 vector 14 errcd 0x8007 addr +0x10000 value 0x1122334455667788 ret 0 cssa 0",
		"restrict pending: ret -1 errno 14 result 20 count 0",
		"modt pending: ret -1 errno 14 result 20 count 0",
		"restrict bad pointer: ret -1 errno 14",
	})
}

// On an SGX1 processor the ioctls answer ENODEV and an enclave access to a
// mapped address without a page is the driver's SIGBUS, which the vDSO
// reports as #PF with the access's error code (W|U, no PTE).
func TestEDMMSGX1(t *testing.T) {
	r := runEDMM(t, CPUSGX1, "sgx1")
	checkLines(t, r.out, []string{
		"restrict: ret -1 errno 19 result 0 count 0",
		"modt: ret -1 errno 19 result 0 count 0",
		"remove: ret -1 errno 19 count 0",
		"mmap +0x10000: ok",
		"put: ret 0 function 3 vector 14 errcd 0x6 addr +0x10000 value 0x1122334455667788 ret 0 cssa 0",
	})
	if c := r.changes(); len(c) != 0 {
		t.Errorf("pages-changed on sgx1: %q", c)
	}
}

// AEX-Notify on the sgx2 model: the enclave (ATTRIBUTES.AEXNOTIFY) and its
// TCS (FLAGS.AEXNOTIFY) opted in, so each AEX sets the SSA frame's
// AEXNOTIFY bit, and ERESUME enters the enclave at OENTRY with CSSA 1 (the
// host sees EEXIT, not the interrupted code resumed); EDECCSSA pops the
// frame (the next EENTER finds CSSA 0); EDECCSSA at CSSA 0 is #GP(0).
func TestEDMMAEXNotify(t *testing.T) {
	r := runEDMMWith(t, CPUSGX2, "aexnotify", true)
	checkLines(t, r.out, []string{
		"get unmapped: ret 0 function 3 vector 14 errcd 0x4 addr +0x10000 value 0 ret 0 cssa 0",
		"eresume: ret 0 function 4 value 0 ret 0 cssa 1",
		"get: ret 0 function 4 value 0 ret 0 cssa 0",
		"edeccssa: ret 0 function 3 vector 13 errcd 0 addr +0 value 0 ret 0 cssa 0",
	})
	if got, want := strings.Join(r.aexes(), "; "), "#PF 0x4 +0x10000 vdso-fixup; #GP 0x0 0x0 vdso-fixup"; got != want {
		t.Errorf("AEXs %q, want %q", got, want)
	}
	if !bytes.Equal(r.aexNotify, []byte{1, 1}) {
		t.Errorf("SSA AEXNOTIFY bytes %v, want [1 1]", r.aexNotify)
	}
	var entries []string
	for _, e := range r.events {
		if e.Kind == EvEENTER || e.Kind == EvERESUME {
			entries = append(entries, fmt.Sprintf("%s %d", e.Kind, e.CSSA))
		}
	}
	if got, want := strings.Join(entries, ", "), "eenter 0, eenter 1, eenter 0, eenter 0"; got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
	// Without AEX-Notify the same ERESUME resumes the faulting GET.
	r = runEDMMWith(t, CPUSGX2, "aexnotify", false)
	if got := r.aexNotify; !bytes.Equal(got, []byte{0, 0}) {
		t.Errorf("SSA AEXNOTIFY bytes without AEX-Notify %v, want [0 0]", got)
	}
}

// A TCS added after EINIT (the kernel selftest tcs_create): committed and
// filled as a regular page, made a TCS by MODIFY_TYPES and EACCEPT
// (TCS|MODIFIED), entered (an eenter on it), closed to enclave code (an
// EPCM #PF writing it), then trimmed and removed with its SSA pages.
func TestEDMMTCSCreate(t *testing.T) {
	r := runEDMM(t, CPUSGX2, "tcs-create")
	checkLines(t, r.out, []string{
		"mmap +0x10000: ok",
		"commit: ret 0 function 4 value 0x3 ret 0 cssa 0",
		"ossa: ret 0 function 4 value 0x12000 ret 0 cssa 0",
		"nssa: ret 0 function 4 value 0x200000000 ret 0 cssa 0",
		"ofsbasgx: ret 0 function 4 value 0x1000 ret 0 cssa 0",
		"ogsbasgx: ret 0 function 4 value 0x1000 ret 0 cssa 0",
		"modt tcs: ret 0 errno 0 result 0 count 0x1000",
		"eaccept tcs: ret 0 function 4 value 0 ret 0 cssa 0",
		"enter new tcs: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"get: ret 0 function 4 value 0x1122334455667788 ret 0 cssa 0",
		"write new tcs: ret 0 function 3 vector 14 errcd 0x8007 addr +0x11000 value 0 ret 0 cssa 0",
		"trim: ret 0 errno 0 result 0 count 0x3000",
		"accept trim: ret 0 function 4 value 0x3 ret 0 cssa 0",
		"remove: ret 0 errno 0 count 0x3000",
	})
	var tcs []string
	for _, e := range r.events {
		if e.Kind == EvEENTER {
			tcs = append(tcs, fmt.Sprintf("%#x", e.TCS-e.Enclave))
		}
	}
	if got := strings.Join(tcs, " "); !strings.Contains(got, "0x11000") {
		t.Errorf("EENTERs on TCS %s, none on the new one at +0x11000", got)
	}
	if got, want := strings.Join(r.changes()[6:8], "; "), "EMODT +0x11000 0x1000 MODIFIED+PT_TCS; EACCEPT +0x11000 0x1000 PT_TCS"; got != want {
		t.Errorf("pages-changed %q, want %q", got, want)
	}
	for _, p := range r.enclaves[0].Pages {
		if p.Offset >= 0x10000 {
			t.Errorf("page +%#x left after REMOVE_PAGES: %v", p.Offset, p.Secinfo)
		}
	}
}
