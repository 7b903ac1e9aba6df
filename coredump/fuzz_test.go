package coredump

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite testdata/fuzz/FuzzReadCore from the fake host's core")

// TestWriteFuzzSeeds regenerates the seed corpus with -write-seeds: the
// fake host's core whole, without host registers and events, and cut
// inside its notes and inside its last page.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate the corpus")
	}
	// The smallest core with every note kind: TCS 0, the code page and
	// the SSA page of the debug enclave (large seeds make the fuzzer's
	// minimization crawl).
	src := newFakeSource()
	e := &src.encls[0]
	e.Pages = []target.Page{e.Pages[0], e.Pages[1], e.Pages[4]}
	e.TCS = e.TCS[:1]
	src.encls = src.encls[:1]
	src.timeline = src.timeline[2:]
	whole, _ := writeCore(t, src, src.options())
	src.regsErr = fmt.Errorf("no registers")
	bare, _ := writeCore(t, src, Options{})
	dir := filepath.Join("testdata", "fuzz", "FuzzReadCore")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"whole": whole, "bare": bare, "notes-cut": whole[:0x600], "page-cut": whole[:len(whole)-100]} {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzReadCore decodes arbitrary bytes as a core file: no panic, and a
// core that decodes answers memory reads of its segments and describes
// its enclaves.
func FuzzReadCore(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := New(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, s := range c.Segments {
			buf := make([]byte, min(s.Size, 1<<16))
			if n, err := c.ReadMemory(buf, s.Vaddr); n != len(buf) || err != nil {
				t.Fatalf("segment %#x: read %d of %d: %v", s.Vaddr, n, len(buf), err)
			}
		}
		var pages uint64
		for _, e := range c.Enclaves {
			for _, r := range e.Runs {
				pages += r.Pages
			}
		}
		if pages <= 1<<16 {
			for i := range c.Enclaves {
				c.Enclaves[i].Info()
			}
		}
	})
}
