package enclave

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// SECINFO.FLAGS values from SGX.md §1: R 1, W 2, X 4, PAGE_TYPE in bits
// 15:8 (TCS 1, REG 2).
const (
	secTCS  = 0x100
	secRW   = 0x203
	secRX   = 0x205
	secR    = 0x201
	rwxMask = 7
)

func openTest(t *testing.T, variant string) *Image {
	t.Helper()
	im, err := Open(testImage(t, variant))
	if err != nil {
		t.Fatalf("Open %s: %v", variant, err)
	}
	t.Cleanup(func() { im.Close() })
	return im
}

// TestImageLayout checks everything NewImage derives from the test image
// against the layout written in testdata/image (entry.S, image.ld).
func TestImageLayout(t *testing.T) {
	im := openTest(t, imgDebug)
	if im.Size != 0x10000 || im.SSAFrameSize != 1 || im.MiscSelect != 1 || im.MiscMask != 0xffffffff ||
		im.ISVProdID != 0x1234 || im.ISVSVN != 7 {
		t.Errorf("SECS parameters: Size %#x SSAFrameSize %d MiscSelect %#x MiscMask %#x ISV %#x/%d",
			im.Size, im.SSAFrameSize, im.MiscSelect, im.MiscMask, im.ISVProdID, im.ISVSVN)
	}
	if want := (sgx.Attributes{Flags: 6, XFRM: 3}); im.Attributes != want {
		t.Errorf("Attributes = %v, want %v", im.Attributes, want)
	}
	if want := (sgx.Attributes{Flags: 0xfffffffffffffffd, XFRM: 0xfffffffffffffffb}); im.AttributeMask != want {
		t.Errorf("AttributeMask = %v, want %v", im.AttributeMask, want)
	}

	wantRuns := []PageRun{
		{0x0000, 0x2000, secTCS, true},
		{0x2000, 0x4000, secRW, true},
		{0x7000, 0x2000, secRW, false}, // STACK, unmeasured
		{0x9000, 0x1000, secRX, true},
		{0xa000, 0x1000, secR, true},
		{0xb000, 0x2000, secRW, true},
		{0xd000, 0x2000, secRW, false}, // HEAP, unmeasured
	}
	if got := im.Runs(); !reflect.DeepEqual(got, wantRuns) {
		t.Errorf("Runs() =\n%+v\nwant\n%+v", got, wantRuns)
	}
	var wantOffs []uint64
	for _, r := range wantRuns {
		for o := r.Offset; o < r.Offset+r.Length; o += PageSize {
			wantOffs = append(wantOffs, o)
		}
	}
	var gotOffs []uint64
	for _, p := range im.Pages {
		gotOffs = append(gotOffs, p.Offset)
		if len(p.Data) != PageSize {
			t.Errorf("page %#x: %d bytes", p.Offset, len(p.Data))
		}
	}
	if !reflect.DeepEqual(gotOffs, wantOffs) {
		t.Errorf("page offsets = %#x, want %#x", gotOffs, wantOffs)
	}

	wantTCS := []TCSInfo{
		{0, 0x0000, sgx.TCS{OSSA: 0x2000, NSSA: 2, OENTRY: 0x9000, OFSBASGX: 0xb000, OGSBASGX: 0xb000}},
		{1, 0x1000, sgx.TCS{OSSA: 0x4000, NSSA: 2, OENTRY: 0x9000, OFSBASGX: 0xb000, OGSBASGX: 0xb000}},
	}
	if !reflect.DeepEqual(im.TCS, wantTCS) {
		t.Errorf("TCS = %+v, want %+v", im.TCS, wantTCS)
	}
	wantRegions := []Region{
		{0x0000, 0x1000, RegionTCS, false, 0},
		{0x1000, 0x1000, RegionTCS, false, 1},
		{0x2000, 0x2000, RegionSSA, false, 0},
		{0x4000, 0x2000, RegionSSA, false, 1},
		{0x6000, 0x1000, RegionGuard, false, -1},
		{0x7000, 0x2000, RegionStack, true, 0},
		{0xb000, 0x1000, RegionThread, false, 0},
		{0xd000, 0x2000, RegionHeap, true, -1},
	}
	if !reflect.DeepEqual(im.Regions, wantRegions) {
		t.Errorf("Regions = %+v, want %+v", im.Regions, wantRegions)
	}

	wantSECS := sgx.SECS{Size: 0x10000, BaseAddr: 0x7f0000000000, SSAFrameSize: 1, MiscSelect: 1,
		Attributes: sgx.Attributes{Flags: 6, XFRM: 3}}
	if got := im.SECS(0x7f0000000000); got != wantSECS {
		t.Errorf("SECS = %+v, want %+v", got, wantSECS)
	}
	if im.Page(0x6000) != nil || im.Page(0x10000) != nil || im.Page(0x9abc) == nil || im.Page(0x9abc).Offset != 0x9000 {
		t.Errorf("Page: hole, end or rounding wrong")
	}
}

// TestPageData checks page contents against the file: whole file pages,
// the partial last page of .data (file bytes then zeros), zero-fill pages.
func TestPageData(t *testing.T) {
	path := testImage(t, imgDebug)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	im := openTest(t, imgDebug)
	for _, p := range im.Pages {
		want := make([]byte, PageSize)
		for _, ph := range f.Progs {
			if ph.Type == elf.PT_LOAD && ph.Vaddr <= p.Offset && p.Offset < ph.Vaddr+ph.Memsz {
				start := p.Offset - ph.Vaddr
				if start < ph.Filesz {
					copy(want, raw[ph.Off+start:ph.Off+min(ph.Filesz, start+PageSize)])
				}
			}
		}
		if !bytes.Equal(p.Data, want) {
			t.Errorf("page %#x: contents differ from the file", p.Offset)
		}
	}
	// The TCS page holds the TCS of entry.S: NSSA 2 at offset 28.
	if got := im.Pages[0].Data[28]; got != 2 {
		t.Errorf("TCS page byte 28 (NSSA) = %d, want 2", got)
	}
}

// TestMRENCLAVEIndependent compares MRENCLAVE with testdata/mrenclave.py, a
// Python implementation written from the image convention and SGX.md, on
// the test images and on every sample enclave built in
// enclaves/debug/build (required when SGXDBG_SAMPLES names that directory).
func TestMRENCLAVEIndependent(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required for the independent MRENCLAVE check: %v", err)
	}
	paths := []string{testImage(t, imgDebug), testImage(t, imgStripped), testImage(t, imgNoCFI)}
	paths = append(paths, samplePaths(t)...)
	out, err := exec.Command(py, append([]string{"testdata/mrenclave.py"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("mrenclave.py: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("mrenclave.py printed %d lines for %d images:\n%s", len(lines), len(paths), out)
	}
	for i, path := range paths {
		want, gotPath, _ := strings.Cut(lines[i], "  ")
		if gotPath != path {
			t.Fatalf("mrenclave.py line %d is for %s, want %s", i, gotPath, path)
		}
		im, err := Open(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		got, err := im.MRENCLAVE()
		im.Close()
		if err != nil {
			t.Errorf("%s: MRENCLAVE: %v", path, err)
			continue
		}
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: MRENCLAVE %x, mrenclave.py says %s", filepath.Base(path), got, want)
		}
	}
}

// TestStrippedSameMeasurement: strip(1) rewrites the file but not the
// pages, so the measurement is unchanged.
func TestStrippedSameMeasurement(t *testing.T) {
	a, err := openTest(t, imgDebug).MRENCLAVE()
	if err != nil {
		t.Fatal(err)
	}
	b, err := openTest(t, imgStripped).MRENCLAVE()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("MRENCLAVE %x after strip, %x before", b, a)
	}
}

// sizelessReader hides the Size method, so NewImage must probe the size.
type sizelessReader struct{ r io.ReaderAt }

func (s sizelessReader) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }

func TestNewImageProbesSize(t *testing.T) {
	raw, err := os.ReadFile(testImage(t, imgDebug))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 2, 3, 1000, len(raw)} {
		got, err := readerSize(sizelessReader{bytes.NewReader(raw[:n])})
		if err != nil || got != int64(n) {
			t.Errorf("readerSize(%d bytes) = %d, %v", n, got, err)
		}
	}
	im, err := NewImage(sizelessReader{bytes.NewReader(raw)})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Pages) != 14 || im.Path != "" {
		t.Errorf("NewImage: %d pages, Path %q", len(im.Pages), im.Path)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{RegionTCS.String(), "TCS"},
		{RegionSSA.String(), "SSA"},
		{RegionStack.String(), "STACK"},
		{RegionHeap.String(), "HEAP"},
		{RegionGuard.String(), "GUARD"},
		{RegionThread.String(), "THREAD"},
		{RegionKind(0).String(), "RegionKind(0)"},
		{RegionKind(7).String(), "RegionKind(7)"},
		{NoteEnclave.String(), "NT_SGXDBG_ENCLAVE"},
		{NoteRegions.String(), "NT_SGXDBG_REGIONS"},
		{NoteType(3).String(), "NoteType(3)"},
		{Region{Offset: 0x7000, Size: 0x2000, Kind: RegionStack, Unmeasured: true, TCSIndex: 0}.String(),
			"STACK [0x7000, 0x9000) TCS 0 unmeasured"},
		{Region{Offset: 0x6000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1}.String(), "GUARD [0x6000, 0x7000)"},
		{(&FormatError{Off: 0xb0, Field: "PT_LOAD 2 p_vaddr", Value: 0x1234, Msg: "not page aligned"}).Error(),
			"PT_LOAD 2 p_vaddr at offset 0xb0: not page aligned (0x1234)"},
		{(&FormatError{Off: -1, Field: "NT_SGXDBG_ENCLAVE", Value: 1, Msg: "missing"}).Error(),
			"NT_SGXDBG_ENCLAVE: missing (0x1)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestSharedPages: whole file-backed pages share the file buffer; whole
// zero-fill pages share one zero page (the allocation bound).
func TestSharedPages(t *testing.T) {
	im := openTest(t, imgDebug)
	heap1, heap2 := im.Page(0xd000), im.Page(0xe000)
	if &heap1.Data[0] != &heap2.Data[0] {
		t.Errorf("zero-fill pages 0xd000 and 0xe000 do not share storage")
	}
	if cap(im.Page(0x0).Data) != PageSize {
		t.Errorf("a page's Data has capacity %d: appending would write into the next page", cap(im.Page(0).Data))
	}
}

// samplePaths returns the built sample enclaves (built on demand).
func samplePaths(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtures.Samples(t), "*.elf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no sample enclaves (*.elf) were built")
	}
	return paths
}
