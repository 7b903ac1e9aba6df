package enclave

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/internal/inputfile"
)

// TestTruncatedImage cuts a good image short, or points a section past
// its end, and checks the *FormatError that says what is missing. The
// expected offsets come from debug/elf's reading of the whole file.
func TestTruncatedImage(t *testing.T) {
	l := layoutOf(t, imgDebug)
	b := l.b
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	phoff, shoff := le.Uint64(b[32:]), le.Uint64(b[40:])
	phBytes, shBytes := uint64(len(f.Progs))*56, uint64(len(f.Sections))*64
	// The section whose data is moved past the end: .text.
	text := -1
	for i, s := range f.Sections {
		if s.Name == ".text" {
			text = i
		}
	}
	if text < 0 || shoff+shBytes != uint64(len(b)) {
		t.Fatalf("test image layout: .text %d, section headers end %#x of %#x", text, shoff+shBytes, len(b))
	}
	moved := bytes.Clone(b)
	shText := int(shoff) + text*64
	le.PutUint64(moved[shText+24:], uint64(len(b))-8) // sh_offset: 8 bytes before the end
	textSize := f.Sections[text].Size

	tests := []struct {
		name string
		b    []byte
		want FormatError
	}{
		{"ELF header only", b[:64], FormatError{Off: 32, Field: "ELF program headers", Value: phoff,
			Msg: fmt.Sprintf("truncated: program headers at %#x need %#x bytes, the file has 0x40", phoff, phBytes)}},
		{"program headers cut", b[:phoff+phBytes-1], FormatError{Off: 32, Field: "ELF program headers", Value: phoff,
			Msg: fmt.Sprintf("truncated: program headers at %#x need %#x bytes, the file has %#x", phoff, phBytes, phoff+phBytes-1)}},
		{"last byte missing", b[:len(b)-1], FormatError{Off: 40, Field: "ELF section headers", Value: shoff,
			Msg: fmt.Sprintf("truncated: section headers at %#x need %#x bytes, the file has %#x", shoff, shBytes, len(b)-1)}},
		{"section past the end", moved, FormatError{Off: int64(shText) + 32, Field: fmt.Sprintf("section %d", text), Value: textSize,
			Msg: fmt.Sprintf("truncated: section %d (SHT_PROGBITS) at %#x needs %#x bytes, the file has %#x", text, len(b)-8, textSize, len(b))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewImage(bytes.NewReader(tt.b))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FormatError", err)
			}
			if *fe != tt.want {
				t.Errorf("got  %+v\nwant %+v", *fe, tt.want)
			}
		})
	}
	if _, err := NewImage(bytes.NewReader(b)); err != nil {
		t.Errorf("the whole image: %v", err)
	}
}

// TestOpenNotRegular: Open refuses what is not a regular file without
// blocking or reading it.
func TestOpenNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, typ string }{
		{fifo, "FIFO"},
		{dir, "directory"},
		{"/dev/zero", "character device"},
	} {
		_, err := Open(tt.path)
		var e *inputfile.Error
		if !errors.As(err, &e) || e.Type != tt.typ || e.Kind != "enclave image" || !errors.Is(err, inputfile.ErrNotRegular) {
			t.Errorf("Open(%s): %v, want a %s refused", tt.path, err, tt.typ)
		}
	}
	_, err := Open(filepath.Join(dir, "missing.elf"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
