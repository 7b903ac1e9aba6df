package dwarfx

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The sample's own source, found through its unit's compilation
// directory, lines as list shows them.
func TestSourcesSample(t *testing.T) {
	p := openSample(t, "clean")
	r, err := p.List("sum_values", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSources()
	lines, err := s.Lines(r.File, r.CompDir, r.From, r.To)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 10 || lines[0].N != 3 || lines[0].Text != `#include "sgxdbg_enclave.h"` ||
		lines[5].N != 8 || lines[5].Text != "\tfor (uint64_t i = 0; i < n; i++)" {
		t.Errorf("Lines = %+v", lines)
	}
	n, err := s.LineCount(r.File, r.CompDir)
	if err != nil || n != 24 {
		t.Errorf("LineCount = %d, %v; want 24 (clean.c)", n, err)
	}
	if _, err := s.Lines(r.File, r.CompDir, 25, 30); err == nil {
		t.Error("Lines past the end: no error")
	} else {
		var le *LineRangeError
		if !errors.As(err, &le) || le.Line != 25 || le.Lines != 24 {
			t.Errorf("Lines past the end: %v", err)
		}
	}
}

func TestSourcesSearch(t *testing.T) {
	root := t.TempDir()
	comp := filepath.Join(root, "build")
	writeFile(t, filepath.Join(comp, "src", "a.c"), "one\ntwo\r\nthree\n")
	alt := filepath.Join(root, "alt")
	writeFile(t, filepath.Join(alt, "a.c"), "alt one\n")

	s := NewSources()
	lines, err := s.Lines("src/a.c", comp, 2, 9)
	if err != nil {
		t.Fatal(err)
	}
	if want := []SourceLine{{2, "two"}, {3, "three"}}; !reflect.DeepEqual(lines, want) {
		t.Errorf("Lines = %+v, want %+v", lines, want)
	}
	// A directory added later is searched first (gdb's `directory`),
	// by DIR/NAME then DIR/BASENAME.
	s.AddDir(alt)
	lines, err = s.Lines("src/a.c", comp, 1, 1)
	if err != nil || len(lines) != 1 || lines[0].Text != "alt one" {
		t.Errorf("after AddDir: %+v, %v", lines, err)
	}
	if got := s.Dirs(); !reflect.DeepEqual(got, []string{alt}) {
		t.Errorf("Dirs = %q", got)
	}

	// Missing: reported once, with the paths tried.
	_, err = s.Lines("gone.c", comp, 1, 1)
	var me *MissingSourceError
	if !errors.As(err, &me) || me.Repeated || me.File != "gone.c" ||
		!reflect.DeepEqual(me.Tried, []string{filepath.Join(alt, "gone.c"), filepath.Join(comp, "gone.c")}) {
		t.Fatalf("first miss: %#v", err)
	}
	_, err = s.Lines("gone.c", comp, 1, 1)
	if !errors.As(err, &me) || !me.Repeated {
		t.Fatalf("second miss: %#v", err)
	}
	// Once it appears and a directory is added, it is found.
	writeFile(t, filepath.Join(root, "more", "gone.c"), "back\n")
	s.AddDir(filepath.Join(root, "more"))
	if lines, err := s.Lines("gone.c", comp, 1, 1); err != nil || lines[0].Text != "back" {
		t.Errorf("after AddDir: %+v, %v", lines, err)
	}

	// Cached: a change on disk is not seen until AddDir resets.
	writeFile(t, filepath.Join(comp, "src", "b.c"), "first\n")
	if _, err := s.Lines("src/b.c", comp, 1, 1); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(comp, "src", "b.c"), "second\n")
	if lines, _ := s.Lines("src/b.c", comp, 1, 1); lines[0].Text != "first" {
		t.Errorf("not cached: %+v", lines)
	}

	// Size bound.
	writeFile(t, filepath.Join(comp, "big.c"), "0123456789\n")
	s.SetMaxSize(5)
	if _, err := s.Lines("big.c", comp, 1, 1); !errors.Is(err, ErrSourceTooLarge) {
		t.Errorf("big file: %v", err)
	}
	// Absolute names are tried as they are first.
	abs := filepath.Join(root, "abs.c")
	writeFile(t, abs, "x\n")
	if p, err := NewSources().Path(abs, "/nonexistent"); err != nil || p != abs {
		t.Errorf("Path(abs) = %q, %v", p, err)
	}
}
