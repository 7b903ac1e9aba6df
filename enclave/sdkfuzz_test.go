package enclave

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteSDKFuzzSeeds regenerates the seed corpus of FuzzSDKMetadata
// with -write-fuzz-seeds: the test note (one block, two blocks), and
// truncations of it.
func TestWriteSDKFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate the corpus")
	}
	one := sdkNote(testSDKBlock(t, [32]byte{1}))
	b19 := testSDKBlock(t, [32]byte{2})
	put64(b19, mdVersion, 1<<32|9)
	seeds := map[string][]byte{
		"one-block":      one,
		"two-blocks":     sdkNote(testSDKBlock(t, [32]byte{1}), b19),
		"truncated-head": one[:mdHeaderSize],
		"truncated-half": one[:len(one)/2],
		"truncated-end":  one[:len(one)-1],
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzSDKMetadata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSeedFiles(t, dir, seeds)
	// FuzzNewImage: the test image with the one-block note, an SDK image.
	img, err := os.ReadFile(sdkTestImage(t, "seed", one))
	if err != nil {
		t.Fatal(err)
	}
	writeSeedFiles(t, filepath.Join("testdata", "fuzz", "FuzzNewImage"), map[string][]byte{"sdk-valid": img})
}

func writeSeedFiles(t *testing.T, dir string, seeds map[string][]byte) {
	t.Helper()
	for name, b := range seeds {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzSDKMetadata: decoding a `.note.sgxmeta` section and expanding its
// layout never panics, and what decodes stays inside the bounds it checked.
func FuzzSDKMetadata(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := DecodeSDKMetadataNote(b, 0)
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error %T %v, want *FormatError", err, err)
			}
			return
		}
		for _, m := range ms {
			if uint64(m.Size) > uint64(len(b)) {
				t.Fatalf("block of %d bytes in a %d-byte note", m.Size, len(b))
			}
			es, err := m.Entries()
			if err != nil {
				continue
			}
			for _, e := range es {
				if e.RVA+uint64(e.PageCount)*PageSize > m.EnclaveSize {
					t.Fatalf("entry %v at %#x+%d pages beyond %#x", e.ID, e.RVA, e.PageCount, m.EnclaveSize)
				}
			}
		}
	})
}
