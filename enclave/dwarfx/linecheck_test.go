package dwarfx

import (
	"debug/elf"
	"errors"
	"path/filepath"
	"testing"
)

// Every sample's .debug_line passes the check.
func TestCheckLineSectionSamples(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(samplePath(t, "clean")), "*.elf"))
	if err != nil || len(paths) < 10 {
		t.Fatalf("samples: %v %v", paths, err)
	}
	for _, p := range append(paths, buildGlobals(t), buildOptimized(t)) {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.Section(".debug_line").Data()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckLineSection(b); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// lineHeader5 is a DWARF 5 .debug_line unit header up to the directory
// entry format, opcode_base 1 (no standard opcode lengths).
func lineHeader5(rest ...byte) []byte {
	body := append([]byte{5, 0, 8, 0, 0x20, 0, 0, 0, 1, 1, 1, 0xfb, 14, 1}, rest...)
	n := len(body)
	return append([]byte{byte(n), byte(n >> 8), 0, 0}, body...)
}

func TestCheckLineSectionBad(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		field string
	}{
		// FuzzDWARFSections found this: an empty directory format and a
		// huge directory count made debug/dwarf loop for minutes.
		{"empty format", lineHeader5(0, 0xff, 0xff, 0xff, 0xff, 0x0f), "directories_count"},
		{"count past the unit", lineHeader5(1, 1, 0x08, 0x80, 0x01, 'a', 0), "directories_count"},
		{"bad form", lineHeader5(1, 1, 0x03, 1, 0), "directories"},
		{"truncated entry", lineHeader5(1, 1, 0x08, 1, 'a', 'b'), "directories"},
		{"file count", lineHeader5(1, 1, 0x08, 1, 'a', 0, 0, 0x90, 0x4e), "file_names_count"},
		{"unit length", []byte{0xff, 0, 0, 0, 5, 0}, "unit_length"},
	}
	for _, tc := range tests {
		err := CheckLineSection(tc.b)
		var le *LineTableError
		if !errors.As(err, &le) || le.Field != tc.field || le.Off != 0 {
			t.Errorf("%s: %v, want a LineTableError on %s", tc.name, err, tc.field)
		}
	}
	ok := lineHeader5(1, 1, 0x08, 1, 'a', 0, 1, 1, 0x08, 1, 'f', 0)
	if err := CheckLineSection(ok); err != nil {
		t.Errorf("a well-formed header: %v", err)
	}
}
