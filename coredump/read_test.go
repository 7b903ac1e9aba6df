package coredump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// noteAt returns the file offset of the descriptor of the nth note of
// owner and typ in core b (-1 if none).
func noteAt(t *testing.T, b []byte, owner string, typ NoteType, nth int) int {
	t.Helper()
	le := binary.LittleEndian
	off, size := int(le.Uint64(b[ehdrSize+8:])), int(le.Uint64(b[ehdrSize+32:]))
	found := -1
	err := eachNote(b[off:off+size], int64(off), func(o string, ty NoteType, _ []byte, d int64) error {
		if o == owner && ty == typ {
			if nth == 0 && found < 0 {
				found = int(d)
			}
			nth--
		}
		return nil
	})
	if err != nil || found < 0 {
		t.Fatalf("no note %s %v #%d (%v)", owner, typ, nth, err)
	}
	return found
}

// phdr returns the file offset of program header i.
func phdr(i int) int { return ehdrSize + i*phdrSize }

// TestReadErrors feeds the reader damaged, truncated and foreign files:
// each gives a *FormatError with the expected sentinel and field.
func TestReadErrors(t *testing.T) {
	src := newFakeSource()
	good, _ := writeCore(t, src, src.options())
	le := binary.LittleEndian
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name  string
		in    []byte
		err   error
		field string
	}{
		{"empty", nil, ErrNotELF, "ELF header"},
		{"text", []byte("this is not a core file\n"), ErrNotELF, "ELF header"},
		{"magic only", []byte("\x7fELF"), ErrTruncated, "ELF header"},
		{"ELF32", mod(func(b []byte) []byte { b[4] = 1; return b }), ErrForeign, "ELF header"},
		{"big-endian", mod(func(b []byte) []byte { b[5] = 2; return b }), ErrForeign, "ELF header"},
		{"ET_DYN", mod(func(b []byte) []byte { le.PutUint16(b[16:], 3); return b }), ErrForeign, "e_type"},
		{"aarch64", mod(func(b []byte) []byte { le.PutUint16(b[18:], 183); return b }), ErrForeign, "e_machine"},
		{"no sgxdbg notes", mod(func(b []byte) []byte {
			d := noteAt(t, b, NoteOwner, NoteCore, 0)
			copy(b[d-8:], "SGXDBH") // the owner name precedes the descriptor
			return b
		}), ErrForeign, "PT_NOTE"},
		{"PN_XNUM", mod(func(b []byte) []byte { le.PutUint16(b[56:], 0xffff); return b }), ErrCorrupt, "e_phnum"},
		{"program headers cut", good[:ehdrSize+phdrSize], ErrTruncated, "program headers"},
		{"notes cut", good[:0x400], ErrTruncated, "program header 0 (PT_NOTE)"},
		{"last page cut", good[:len(good)-1], ErrTruncated, "program header 6 (PT_LOAD)"},
		{"note size past its segment", mod(func(b []byte) []byte {
			d := noteAt(t, b, NoteOwner, NoteEvents, 0)
			le.PutUint32(b[d-8-12+4:], 1<<30) // descsz of the last note
			return b
		}), ErrTruncated, "note"},
		{"version 2", mod(func(b []byte) []byte { le.PutUint32(b[noteAt(t, b, NoteOwner, NoteCore, 0):], 2); return b }), ErrCorrupt, "NT_SGXDBG_CORE"},
		{"second core note", mod(func(b []byte) []byte {
			d := noteAt(t, b, NoteOwner, NoteStop, 0)
			le.PutUint32(b[d-8-12+8:], uint32(NoteCore))
			return b
		}), ErrCorrupt, "NT_SGXDBG_CORE"},
		{"SIZE not a power of two", mod(func(b []byte) []byte {
			le.PutUint64(b[noteAt(t, b, NoteOwner, NoteSECS, 0)+secsSize:], 0x30000)
			return b
		}), ErrCorrupt, "NT_SGXDBG_SECS"},
		{"page run outside SIZE", mod(func(b []byte) []byte {
			le.PutUint64(b[noteAt(t, b, NoteOwner, NoteSECS, 0)+SECSNoteSize+6*PageRunSize:], 0x20000)
			return b
		}), ErrCorrupt, "NT_SGXDBG_SECS"},
		{"non-debug enclave dumped", mod(func(b []byte) []byte {
			le.PutUint32(b[noteAt(t, b, NoteOwner, NoteSECS, 1)+secsFlags:], SECSInitialized|SECSDumped)
			return b
		}), ErrCorrupt, "NT_SGXDBG_SECS"},
		{"TCS on a REG page", mod(func(b []byte) []byte {
			le.PutUint64(b[noteAt(t, b, NoteOwner, NoteTCS, 0)+tcsAddr:], fakeCode)
			return b
		}), ErrCorrupt, "NT_SGXDBG_TCS"},
		{"frame index past CSSA", mod(func(b []byte) []byte {
			le.PutUint32(b[noteAt(t, b, NoteOwner, NoteSSA, 0)+ssaIndex:], 1)
			return b
		}), ErrCorrupt, "NT_SGXDBG_SSA"},
		{"frame at the wrong address", mod(func(b []byte) []byte {
			le.PutUint64(b[noteAt(t, b, NoteOwner, NoteSSA, 0)+ssaAddr:], fakeSSA0+0x1000)
			return b
		}), ErrCorrupt, "NT_SGXDBG_SSA"},
		{"frame missing", mod(func(b []byte) []byte {
			le.PutUint32(b[noteAt(t, b, NoteOwner, NoteTCS, 0)+tcsRaw+24:], 2) // CSSA 2, one frame
			return b
		}), ErrCorrupt, "NT_SGXDBG_SSA"},
		{"NT_PRSTATUS missing", mod(func(b []byte) []byte {
			d := noteAt(t, b, linuxOwner, NotePrstatus, 0)
			copy(b[d-8:], "XORE")
			copy(b[noteAt(t, b, linuxOwner, NoteFPRegset, 0)-8:], "XORE")
			return b
		}), ErrCorrupt, "NT_PRSTATUS"},
		{"NT_PRSTATUS short", mod(func(b []byte) []byte {
			d := noteAt(t, b, linuxOwner, NotePrstatus, 0)
			le.PutUint32(b[d-8-12+4:], 296) // x32's size; padding keeps the walk aligned
			return b
		}), ErrCorrupt, "NT_PRSTATUS"},
		{"bad stop JSON", mod(func(b []byte) []byte { b[noteAt(t, b, NoteOwner, NoteStop, 0)] = '['; return b }), ErrCorrupt, "NT_SGXDBG_STOP"},
		{"bad event JSON", mod(func(b []byte) []byte {
			d := noteAt(t, b, NoteOwner, NoteEvents, 0)
			copy(b[d+bytes.Index(b[d:], []byte(`"0x7f0000000000"`)):], `"7f00000000000x"`)
			return b
		}), ErrCorrupt, "NT_SGXDBG_EVENTS"},
		{"host regs flag without note", mod(func(b []byte) []byte {
			le.PutUint32(b[noteAt(t, b, NoteOwner, NoteCore, 0)+coreFlags:], 0)
			return b
		}), ErrCorrupt, "NT_SGXDBG_HOSTREGS"},
		{"segment outside the enclaves", mod(func(b []byte) []byte { le.PutUint64(b[phdr(6)+16:], 0x1000); return b }), ErrCorrupt, "PT_LOAD"},
		{"segments overlap", mod(func(b []byte) []byte { le.PutUint64(b[phdr(3)+16:], fakeCode); return b }), ErrCorrupt, "PT_LOAD"},
		{"segment on the PENDING page", mod(func(b []byte) []byte { le.PutUint64(b[phdr(4)+16:], fakePending); return b }), ErrCorrupt, "PT_LOAD"},
		{"filesz != memsz", mod(func(b []byte) []byte { le.PutUint64(b[phdr(2)+40:], 0x2000); return b }), ErrCorrupt, "program header 2 (PT_LOAD)"},
		{"a segment missing", mod(func(b []byte) []byte { le.PutUint32(b[phdr(4):], uint32(6)); return b }), ErrCorrupt, "PT_LOAD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(bytes.NewReader(tc.in), int64(len(tc.in)))
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tc.err) || fe.Field != tc.field {
				t.Fatalf("err %v, want a *FormatError %q wrapping %v", err, tc.field, tc.err)
			}
		})
	}
}

// TestOpenErrors: Open names the file; a missing file is the OS's error.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "short.core")
	if err := os.WriteFile(p, []byte("\x7fELF\x02\x01"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p); !errors.Is(err, ErrTruncated) || err.Error() != p+": core file: ELF header at offset 0x0: needs 64 bytes, the file has 6: truncated core file" {
		t.Errorf("err %v", err)
	}
	if _, err := Open(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err %v", err)
	}
}

// TestLinuxCoreIsForeign: a process core written by gdb's gcore is an x86-64
// ET_CORE without sgxdbg's notes.
func TestLinuxCoreIsForeign(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("no gdb")
	}
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	p := filepath.Join(t.TempDir(), "sleep.core")
	var out []byte
	var err error
	// gdb may attach before sleep has exec'd: retry until the core exists.
	for i := 0; i < 50; i++ {
		out, err = exec.Command("gdb", "-nx", "-batch", "-p", strconv.Itoa(sleep.Process.Pid), "-ex", "gcore "+p).CombinedOutput()
		if _, serr := os.Stat(p); serr == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, serr := os.Stat(p); serr != nil {
		t.Skipf("gcore did not write a core: %v\n%s", err, out)
	}
	_, err = Open(p)
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrForeign) || fe.Field != "PT_NOTE" {
		t.Fatalf("err %v, want ErrForeign (no NT_SGXDBG_CORE)", err)
	}
}

func TestNoteTypeNames(t *testing.T) {
	for typ, want := range map[NoteType]string{NotePrstatus: "NT_PRSTATUS", NoteFPRegset: "NT_FPREGSET", NoteAuxv: "NT_AUXV",
		NoteCore: "NT_SGXDBG_CORE", NoteStop: "NT_SGXDBG_STOP", NoteSECS: "NT_SGXDBG_SECS", NoteTCS: "NT_SGXDBG_TCS",
		NoteSSA: "NT_SGXDBG_SSA", NoteHostRegs: "NT_SGXDBG_HOSTREGS", NoteThreads: "NT_SGXDBG_THREADS",
		NoteEvents: "NT_SGXDBG_EVENTS", NoteImage: "NT_SGXDBG_IMAGE", 0x1ff: "NoteType(511)"} {
		if got := typ.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint32(typ), got, want)
		}
	}
}
