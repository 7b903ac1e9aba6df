package enclave

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every sample's documented faulting instruction (enclaves/debug/
// samples.json, "rip": "symbol+0x…") resolves to its function and to the
// source line binutils' addr2line gives.
func TestSampleFaultSymbolization(t *testing.T) {
	paths := samplePaths(t)
	if len(paths) == 0 {
		t.Fatal("no sample enclaves built (run `make enclaves`)")
	}
	dir := filepath.Dir(paths[0])
	raw, err := os.ReadFile(filepath.Join("..", "enclaves", "debug", "samples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []struct {
			Name string `json:"name"`
			AEX  []struct {
				Symbol string `json:"symbol"`
				RIP    string `json:"rip"`
			} `json:"aex"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, sc := range doc.Scenarios {
		path := filepath.Join(dir, sc.Name+".elf")
		im, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		syms, err := im.Symbols()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range sc.AEX {
			name, offs, _ := strings.Cut(a.RIP, "+")
			delta, err := strconv.ParseUint(offs, 0, 64)
			if err != nil {
				t.Fatalf("%s: bad rip %q", sc.Name, a.RIP)
			}
			var start uint64
			found := false
			for _, s := range syms {
				if s.Name == name {
					start, found = s.Offset, true
				}
			}
			if !found {
				t.Fatalf("%s: no symbol %s", sc.Name, name)
			}
			off := start + delta
			sym, at, ok := im.SymbolAt(off)
			if !ok || sym.Name != a.Symbol || at != delta {
				t.Errorf("%s: SymbolAt(%#x) = %s+%#x, want %s", sc.Name, off, sym.Name, at, a.RIP)
			}
			file, line, err := im.LineAt(off)
			if err != nil {
				t.Errorf("%s: LineAt(%#x): %v", sc.Name, off, err)
				continue
			}
			out, err := exec.Command("addr2line", "-e", path, strconv.FormatUint(off, 16)).Output()
			if err != nil {
				t.Fatalf("addr2line: %v", err)
			}
			want := strings.TrimSpace(string(out))
			if i := strings.Index(want, " ("); i >= 0 {
				want = want[:i]
			}
			if !strings.HasSuffix(want, file+":"+strconv.Itoa(line)) {
				t.Errorf("%s: LineAt(%#x) = %s:%d, addr2line says %s", sc.Name, off, file, line, want)
			}
			checked++
		}
		im.Close()
	}
	if checked < 10 {
		t.Errorf("only %d faulting instructions checked", checked)
	}
}
