package enclave

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

func TestSDKImage(t *testing.T) {
	var hash [32]byte
	hash[31] = 0x5A
	path := sdkTestImage(t, "sdk", sdkNote(testSDKBlock(t, hash)))
	ims, err := OpenAll(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, im := range ims {
			im.Close()
		}
	}()
	if len(ims) != 1 {
		t.Fatalf("%d images, want 1", len(ims))
	}
	im := ims[0]
	if im.Runtime != RuntimeIntelSDK || im.SDK == nil || im.Size != tsSize || im.SSAFrameSize != 1 ||
		im.ISVProdID != 7 || im.ISVSVN != 9 || im.Attributes.Flags != sgx.AttrMode64Bit|sgx.AttrDebug || im.Attributes.XFRM != 3 {
		t.Errorf("image header %+v", im)
	}
	if d, ok := im.DeclaredMRENCLAVE(); !ok || d != hash {
		t.Errorf("DeclaredMRENCLAVE = %x, %v", d, ok)
	}
	want := []Region{
		{Offset: 0x10000, Size: 0x2000, Kind: RegionHeap, Unmeasured: true, TCSIndex: -1},
		{Offset: 0x12000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1},
		{Offset: 0x13000, Size: 0x2000, Kind: RegionStack, TCSIndex: 0},
		{Offset: 0x15000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1},
		{Offset: 0x16000, Size: 0x1000, Kind: RegionTCS, TCSIndex: 0},
		{Offset: 0x17000, Size: 0x2000, Kind: RegionSSA, TCSIndex: 0},
		{Offset: 0x19000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1},
		{Offset: 0x1a000, Size: 0x1000, Kind: RegionThread, TCSIndex: 0},
		{Offset: 0x1b000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1},
		{Offset: 0x1c000, Size: 0x2000, Kind: RegionStack, TCSIndex: 1},
		{Offset: 0x1e000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1},
		{Offset: 0x1f000, Size: 0x1000, Kind: RegionTCS, TCSIndex: 1},
		{Offset: 0x20000, Size: 0x2000, Kind: RegionSSA, TCSIndex: 1},
		{Offset: 0x22000, Size: 0x1000, Kind: RegionGuard, TCSIndex: -1},
		{Offset: 0x23000, Size: 0x1000, Kind: RegionThread, TCSIndex: 1},
		{Offset: 0x24000, Size: 0x1c000, Kind: RegionGuard, TCSIndex: -1},
	}
	if !reflect.DeepEqual(im.Regions, want) {
		t.Errorf("regions:\n got %v\nwant %v", im.Regions, want)
	}
	if len(im.TCS) != 2 {
		t.Fatalf("%d TCS, want 2", len(im.TCS))
	}
	for i, off := range []uint64{0x16000, 0x1f000} {
		tc := im.TCS[i]
		if tc.Index != i || tc.Offset != off || tc.TCS.OSSA != off+0x1000 || tc.TCS.NSSA != 2 || tc.TCS.OENTRY != 0x9000 ||
			tc.TCS.OFSBASGX != off+0x4000 || tc.TCS.OGSBASGX != off+0x4000 {
			t.Errorf("TCS %d = %+v", i, tc)
		}
	}
	// Pages: the 14 of the segments (0x0-0x2000, 0x2000-0x6000, 0x7000-0x9000,
	// 0x9000, 0xa000, 0xb000-0xf000) and 2 heap + 2×(2 stack + TCS + 2 SSA + TD).
	if len(im.Pages) != 14+2+2*6 {
		t.Errorf("%d pages, want 28", len(im.Pages))
	}
	checkPage := func(off uint64, si sgx.SecinfoFlags, measured bool, first uint64) {
		t.Helper()
		p := im.Page(off)
		if p == nil {
			t.Errorf("no page at %#x", off)
			return
		}
		if p.Secinfo != si || p.Measured != measured || binary.LittleEndian.Uint64(p.Data) != first {
			t.Errorf("page %#x: %v measured %v first %#x, want %v %v %#x", off, p.Secinfo, p.Measured,
				binary.LittleEndian.Uint64(p.Data), si, measured, first)
		}
	}
	rw := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
	checkPage(0xb000, rw, true, tsPatchData) // .data, patched
	checkPage(0x10000, rw, false, 0)         // heap: EADD only
	checkPage(0x13000, rw, true, 0xCCCCCCCCCCCCCCCC)
	checkPage(0x1d000, rw, true, 0xCCCCCCCCCCCCCCCC)
	checkPage(0x16000, sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0), true, 0)
	for _, hole := range []uint64{0x6000, 0xf000, 0x12000, 0x15000, 0x19000, 0x24000} {
		if im.Page(hole) != nil {
			t.Errorf("page at %#x, want a hole", hole)
		}
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(file[tsPatchDst:tsPatchDst+8], im.Page(0xb000).Data[:8]) {
		t.Error("the file already holds the patch bytes: the test proves nothing")
	}
	// The layout is added in offset order here, so MRENCLAVE is the
	// offset-order measurement of the pages.
	m := sgx.NewMeasurement(tsSize, 1)
	for _, p := range im.Pages {
		if err := m.AddPage(p.Offset, p.Secinfo, p.Data, p.Measured); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := im.MRENCLAVE(); err != nil || got != m.Sum() {
		t.Errorf("MRENCLAVE %x, %v; want %x", got, err, m.Sum())
	}
	// Debug information comes from the unpatched file.
	if sym, _, ok := im.SymbolAt(0x9000); !ok || sym.Name == "" {
		t.Errorf("SymbolAt(0x9000) = %+v, %v", sym, ok)
	}
	if file, line, err := im.LineAt(0x9000); err != nil || file == "" || line == 0 {
		t.Errorf("LineAt(0x9000) = %q, %d, %v", file, line, err)
	}
}

// TestSDKImageBlocks: of three blocks (3.3, 2.1, 1.9) the 2.x one is
// skipped, the others come newest first.
func TestSDKImageBlocks(t *testing.T) {
	b33 := testSDKBlock(t, [32]byte{1})
	b21 := testSDKBlock(t, [32]byte{2})
	put64(b21, mdVersion, 2<<32|1)
	b19 := testSDKBlock(t, [32]byte{3})
	put64(b19, mdVersion, 1<<32|9)
	ims, err := OpenAll(sdkTestImage(t, "blocks", sdkNote(b19, b21, b33)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, im := range ims {
		d, _ := im.DeclaredMRENCLAVE()
		got = append(got, im.SDK.VersionString()+":"+string('0'+rune(d[0])))
		im.Close()
	}
	if want := []string{"3.3:1", "1.9:3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("blocks %v, want %v", got, want)
	}
}

func TestSDKImageUnsupported(t *testing.T) {
	b := testSDKBlock(t, [32]byte{})
	put64(b, mdVersion, 13<<32|3) // ELRANGE metadata
	_, err := OpenAll(sdkTestImage(t, "elrange", sdkNote(b)))
	var fe *FormatError
	if !errors.Is(err, ErrUnsupportedSDK) || !errors.As(err, &fe) || fe.Field != "sgx_metadata version" {
		t.Fatalf("error %v, want ErrUnsupportedSDK at the version", err)
	}
	b = testSDKBlock(t, [32]byte{})
	put64(b, tsPatches, 1<<17) // patch past the end of the file
	_, err = OpenAll(sdkTestImage(t, "patch", sdkNote(b)))
	if !errors.As(err, &fe) || fe.Field != "sgx_metadata patch 0 dst" || fe.Value != 1<<17 {
		t.Fatalf("error %v, want the patch dst", err)
	}
	b = testSDKBlock(t, [32]byte{})
	put64(b, mdHeaderSize+8, 0xb000) // the heap onto .data: a page added twice
	_, err = OpenAll(sdkTestImage(t, "twice", sdkNote(b)))
	if !errors.As(err, &fe) || fe.Field != "sgx_metadata layout 0 rva" || fe.Value != 0xb000 {
		t.Fatalf("error %v, want the heap at 0xb000 added twice", err)
	}
}

// TestSDKImagePartialPage: a segment whose p_vaddr is not page aligned
// (an SDK enclave's data segment usually) starts its first page with
// zeros, not with the file bytes before it (loader.cpp
// build_partial_page).
func TestSDKImagePartialPage(t *testing.T) {
	path := sdkTestImage(t, "partial", sdkNote(testSDKBlock(t, [32]byte{})))
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	const phoff, data = 64, 5 // the debug test image's program headers; PT_LOAD 5 is .data at 0xb000
	ph := file[phoff+data*56:]
	if le.Uint32(ph) != 1 || le.Uint64(ph[16:]) != 0xb000 || le.Uint64(ph[8:]) != tsPatchDst {
		t.Fatalf("program header %d is not .data at 0xb000 from file offset %#x", data, tsPatchDst)
	}
	const skip = 0x10
	filesz := le.Uint64(ph[32:])
	le.PutUint64(ph[8:], tsPatchDst+skip) // p_offset
	le.PutUint64(ph[16:], 0xb000+skip)    // p_vaddr
	le.PutUint64(ph[24:], 0xb000+skip)    // p_paddr
	le.PutUint64(ph[32:], filesz-skip)    // p_filesz
	le.PutUint64(ph[40:], le.Uint64(ph[40:])-skip)
	im, err := NewImage(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	p := im.Page(0xb000)
	if p == nil {
		t.Fatal("no page at 0xb000")
	}
	want := make([]byte, PageSize)
	copy(want[skip:], file[tsPatchDst+skip:tsPatchDst+filesz])
	if !bytes.Equal(p.Data, want) {
		t.Errorf("page 0xb000 starts % x…, want % x… (zeros, then the file from %#x)", p.Data[:0x20], want[:0x20], tsPatchDst+skip)
	}
	if bytes.Equal(file[tsPatchDst:tsPatchDst+skip], want[:skip]) {
		t.Error("the file holds zeros where the page must: the test proves nothing")
	}
}
