package coredump

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// TestWriteLayout checks the ELF structure of a core with debug/elf: the
// header, one PT_NOTE first, then one PT_LOAD per run of debuggable pages
// with equal R/W/X (the PENDING page and the non-debug enclave left out),
// page-aligned file offsets, and the summary.
func TestWriteLayout(t *testing.T) {
	src := newFakeSource()
	b, sum := writeCore(t, src, src.options())
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_CORE || f.Machine != elf.EM_X86_64 || len(f.Sections) != 0 {
		t.Fatalf("header %v %v %v %v, %d sections", f.Class, f.Data, f.Type, f.Machine, len(f.Sections))
	}
	type seg struct {
		typ         elf.ProgType
		vaddr, size uint64
		flags       elf.ProgFlag
	}
	want := []seg{
		{elf.PT_LOAD, fakeTCS0, 0x1000, 0},
		{elf.PT_LOAD, fakeCode, 0x1000, elf.PF_R | elf.PF_X},
		{elf.PT_LOAD, fakeData, 0x4000, elf.PF_R | elf.PF_W}, // data and SSA pages
		{elf.PT_LOAD, fakeRO, 0x1000, elf.PF_R},
		{elf.PT_LOAD, fakeTCS1, 0x1000, 0},
		{elf.PT_LOAD, fakeSSA1, 0x1000, elf.PF_R | elf.PF_W},
	}
	if len(f.Progs) != 1+len(want) || f.Progs[0].Type != elf.PT_NOTE || f.Progs[0].Align != 4 {
		t.Fatalf("%d program headers, first %v", len(f.Progs), f.Progs[0].Type)
	}
	var off uint64
	for i, w := range want {
		p := f.Progs[i+1]
		got := seg{p.Type, p.Vaddr, p.Filesz, p.Flags}
		if got != w || p.Memsz != p.Filesz || p.Align != sgx.PageSize || p.Off%sgx.PageSize != 0 || p.Off < off {
			t.Errorf("segment %d: %+v off %#x align %#x memsz %#x, want %+v page aligned after %#x", i+1, got, p.Off, p.Align, p.Memsz, w, off)
		}
		off = p.Off + p.Filesz
	}
	if off != uint64(len(b)) {
		t.Errorf("file is %#x bytes, the last segment ends at %#x", len(b), off)
	}
	wantSum := Summary{Bytes: int64(len(b)), Enclaves: 2, Pages: 9, Threads: 1, Main: fakeBase, Entry: fakeBase + fakeEntry}
	if sum != wantSum {
		t.Errorf("summary %+v, want %+v", sum, wantSum)
	}
	if src.maxRead > chunkPages*sgx.PageSize {
		t.Errorf("largest EDBGRD read %d bytes, want at most %d", src.maxRead, chunkPages*sgx.PageSize)
	}
}

// TestRoundTrip writes the fake host's core and reads it back: every note
// decodes to what the source said, and memory reads give EDBGRD's bytes.
func TestRoundTrip(t *testing.T) {
	src := newFakeSource()
	opts := src.options()
	opts.Images = map[uint64]ImageRef{fakeBase: {Path: "/enclaves/fake.elf", Entry: 0x1234000}}
	b, _ := writeCore(t, src, opts)
	c, err := New(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Pid != 100 || c.Tid != 101 || c.Signal != unix.SIGSEGV || !reflect.DeepEqual(c.Stop, src.ev) {
		t.Errorf("pid %d tid %d signal %v stop %+v", c.Pid, c.Tid, c.Signal, c.Stop)
	}
	if !reflect.DeepEqual(c.Events, src.timeline) {
		t.Errorf("events\n%+v\nwant\n%+v", c.Events, src.timeline)
	}
	if !reflect.DeepEqual(c.Threads, src.threads) || c.HostRegs == nil || *c.HostRegs != src.regs {
		t.Errorf("threads %+v host regs %+v", c.Threads, c.HostRegs)
	}
	if len(c.Enclaves) != 2 {
		t.Fatalf("%d enclaves", len(c.Enclaves))
	}
	for i, e := range c.Enclaves {
		info := e.Info()
		if !reflect.DeepEqual(info, src.encls[i]) {
			t.Errorf("enclave %d:\n%+v\nwant\n%+v", i, info, src.encls[i])
		}
	}
	d := c.Enclaves[0]
	wantRuns := []PageRun{{0, 1, tcsFlags}, {0x1000, 1, reg(sgx.SecinfoR | sgx.SecinfoX)}, {0x2000, 4, reg(sgx.SecinfoR | sgx.SecinfoW)},
		{0x6000, 1, reg(sgx.SecinfoR|sgx.SecinfoW) | sgx.SecinfoPending}, {0x7000, 1, reg(sgx.SecinfoR)}, {0x8000, 1, tcsFlags},
		{0x9000, 1, reg(sgx.SecinfoR | sgx.SecinfoW)}}
	if !reflect.DeepEqual(d.Runs, wantRuns) || !d.Dumped || c.Enclaves[1].Dumped || d.Image != opts.Images[fakeBase] {
		t.Errorf("runs %+v dumped %v/%v image %+v", d.Runs, d.Dumped, c.Enclaves[1].Dumped, d.Image)
	}
	if len(c.TCS) != 2 || c.TCS[0].Addr != fakeTCS0 || c.TCS[0].TCS.CSSA != 1 || c.TCS[1].Addr != fakeTCS1 || c.TCS[1].TCS.Flags != sgx.TCSDbgOptIn {
		t.Errorf("TCS %+v", c.TCS)
	}
	if len(c.Frames) != 1 || c.Frames[0].TCS != fakeTCS0 || c.Frames[0].Index != 0 || c.Frames[0].Addr != fakeSSA0 || !bytes.Equal(c.Frames[0].Data, fakeFrame()) {
		t.Errorf("frames %d", len(c.Frames))
	}
	// NT_PRSTATUS: the enclave's registers from the SSA frame.
	if len(c.Prstatus) != 1 {
		t.Fatalf("%d NT_PRSTATUS", len(c.Prstatus))
	}
	pr := c.Prstatus[0]
	wantRegs := target.Regs{R15: 15, R14: 14, R13: 13, R12: 12, Rbp: fakeData + 0x1ff8, Rbx: 0x33, R11: 11, R10: 10, R9: 9, R8: 8,
		Rax: 0x88, Rcx: 0x11, Rdx: 0x22, Rsi: 0x44, Rdi: 0x10000, Orig_rax: ^uint64(0), Rip: fakeRIP, Cs: 0x33, Eflags: 0x10246,
		Rsp: fakeData + 0x1ff0, Ss: 0x2b, Fs_base: fakeData, Gs_base: fakeData + 8}
	if pr.Pid != 101 || pr.Signal != unix.SIGSEGV || pr.Regs != wantRegs || !bytes.Equal(pr.FPRegs, fakeFrame()[:512]) {
		t.Errorf("prstatus pid %d signal %v regs\n%+v\nwant\n%+v", pr.Pid, pr.Signal, pr.Regs, wantRegs)
	}
	if c.Entry != fakeBase+0x1234000 {
		t.Errorf("AT_ENTRY %#x", c.Entry)
	}
	// Memory: REG pages as EDBGRD reads them, TCS pages' 72 bytes then zeros.
	for _, tc := range []struct {
		addr uint64
		n    int
	}{{fakeCode, 0x1000}, {fakeData + 0x10, 0x3ff0}, {fakeRO, 0x1000}, {fakeSSA1 + 0xff0, 0x10}} {
		got := make([]byte, tc.n)
		if n, err := c.ReadMemory(got, tc.addr); n != tc.n || err != nil {
			t.Fatalf("ReadMemory %#x: %d, %v", tc.addr, n, err)
		}
		if want := src.mem[fakeBase][tc.addr-fakeBase : tc.addr-fakeBase+uint64(tc.n)]; !bytes.Equal(got, want) {
			t.Errorf("ReadMemory %#x: differs from the enclave", tc.addr)
		}
	}
	tcs := make([]byte, sgx.PageSize)
	if _, err := c.ReadMemory(tcs, fakeTCS0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tcs[:72], src.mem[fakeBase][:72]) || !bytes.Equal(tcs[72:], make([]byte, sgx.PageSize-72)) {
		t.Error("TCS page: want its 72 readable bytes and zeros")
	}
	var me *MemoryError
	for _, a := range []uint64{fakePending, fakeNDBase, fakeBase + fakeSize, 0} {
		if n, err := c.ReadMemory(make([]byte, 8), a); n != 0 || !errors.As(err, &me) || me.Addr != a || !errors.Is(err, ErrNotInCore) {
			t.Errorf("ReadMemory %#x: %d, %v; want ErrNotInCore", a, n, err)
		}
	}
	// A read running off the end of a segment stops there.
	if n, err := c.ReadMemory(make([]byte, 0x20), fakeSSA1+sgx.PageSize-0x10); n != 0x10 || !errors.Is(err, ErrNotInCore) {
		t.Errorf("read across the end: %d, %v", n, err)
	}
}

// TestWriteChoices covers the stopped TCS going first in gdb's thread
// list, pr_pid numbering, entry from OENTRY without an image, no host
// registers, read failures and nothing to dump.
func TestWriteChoices(t *testing.T) {
	t.Run("second TCS stopped", func(t *testing.T) {
		src := newFakeSource()
		// TCS 1 gets a frame in use too; the stop is on TCS 1.
		raw := src.mem[fakeBase][fakeTCS1-fakeBase:]
		binary.LittleEndian.PutUint32(raw[24:], 1) // CSSA
		copy(src.mem[fakeBase][fakeSSA1-fakeBase:], fakeFrame())
		src.ev.TCS, src.ev.Tid = fakeTCS1, 1 // tid 1 collides with the first synthetic pr_pid
		b, _ := writeCore(t, src, Options{})
		c, err := New(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Prstatus) != 2 || c.Prstatus[0].Pid != 1 || c.Prstatus[0].Signal != unix.SIGSEGV || c.Prstatus[1].Pid != 2 || c.Prstatus[1].Signal != 0 {
			t.Errorf("prstatus %+v", c.Prstatus)
		}
		if c.Entry != fakeBase+fakeEntry || c.Enclaves[0].Image != (ImageRef{}) || len(c.Events) != 0 {
			t.Errorf("entry %#x image %+v events %d", c.Entry, c.Enclaves[0].Image, len(c.Events))
		}
	})
	t.Run("no host registers", func(t *testing.T) {
		src := newFakeSource()
		src.regsErr = target.ErrResumed
		b, _ := writeCore(t, src, Options{})
		c, err := New(bytes.NewReader(b), int64(len(b)))
		if err != nil || c.HostRegs != nil {
			t.Fatalf("%v, host regs %v", err, c.HostRegs)
		}
	})
	t.Run("read failure", func(t *testing.T) {
		src := newFakeSource()
		src.failAt = fakeData + 0x1800
		_, err := Write(&bytes.Buffer{}, src, Options{})
		if !errors.Is(err, errFakeRead) || !strings.Contains(err.Error(), "read 4 enclave pages at 0x7f0000002000") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("nothing to dump", func(t *testing.T) {
		src := newFakeSource()
		src.encls = src.encls[1:]
		if _, err := Write(&bytes.Buffer{}, src, Options{}); !errors.Is(err, ErrNothingToDump) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("progress", func(t *testing.T) {
		src := newFakeSource()
		var calls [][2]uint64
		writeCore(t, src, Options{Progress: func(done, total uint64) { calls = append(calls, [2]uint64{done, total}) }})
		// TCS, code, 4 RW, RO, TCS, RW: one call per TCS page, per chunk.
		want := [][2]uint64{{0x1000, 0x9000}, {0x2000, 0x9000}, {0x6000, 0x9000}, {0x7000, 0x9000}, {0x8000, 0x9000}, {0x9000, 0x9000}}
		if !reflect.DeepEqual(calls, want) {
			t.Errorf("progress %x, want %x", calls, want)
		}
	})
}

// TestReadelfAndGDB cross-checks a core with binutils' readelf (note
// types and owners) and gdb (the registers of NT_PRSTATUS).
func TestReadelfAndGDB(t *testing.T) {
	src := newFakeSource()
	b, _ := writeCore(t, src, src.options())
	path := filepath.Join(t.TempDir(), "fake.core")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("readelf", "-n", "-W", path).CombinedOutput()
	if err != nil {
		t.Fatalf("readelf: %v\n%s", err, out)
	}
	var linux []string
	sgxdbg := 0
	for _, l := range strings.Split(string(out), "\n") {
		fs := strings.Fields(l)
		switch {
		case len(fs) >= 3 && fs[0] == "CORE":
			linux = append(linux, fs[2])
		case len(fs) >= 1 && fs[0] == "SGXDBG":
			sgxdbg++
		}
	}
	// CORE, STOP, 2 SECS, 2 TCS, 1 SSA, HOSTREGS, THREADS, EVENTS.
	if strings.Join(linux, " ") != "NT_PRSTATUS NT_FPREGSET NT_AUXV" || sgxdbg != 10 {
		t.Errorf("readelf -n: CORE notes %v, %d SGXDBG notes, want NT_PRSTATUS NT_FPREGSET NT_AUXV and 10", linux, sgxdbg)
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("no gdb")
	}
	out, err = exec.Command("gdb", "-nx", "-batch", "-ex", "info registers rip rsp rax r15 eflags", "-ex", "info threads", "-c", path).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	for _, want := range []string{"rip            0x7f0000001004", "rsp            0x7f0000003ff0", "rax            0x88",
		"r15            0xf", "eflags         0x10246", "LWP 101"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("gdb output lacks %q:\n%s", want, out)
		}
	}
}
