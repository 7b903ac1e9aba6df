package enclave

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// The synthetic SDK layout the tests sign into the test image: heap,
// two threads (the second through a THREAD_GROUP), a padding guard, a
// patch of .data, as sgx_sign lays them out (sdk/sign_tool/SignTool/
// manage_metadata.cpp build_layout_table).
const (
	tsHeap      = 0x10000
	tsThread    = 0x12000 // guard | stack max | stack min | guard | TCS | SSA×2 | guard | TD
	tsStep      = 0x9000
	tsSize      = 0x40000
	tsPatchDst  = 0x5000 // file offset of .data in the debug test image
	tsPatchData = 0x1817161514131211
	tsTemplate  = 1904 + 11*sdkLayoutSize // the TCS template after the layout table
	tsPatches   = tsTemplate + sdkTCSTemplateSize
	tsPatchSrc  = tsPatches + sdkPatchSize
	tsBlockSize = tsPatchSrc + 8
)

// testLayout is the layout table: the 11 records of the test block.
func testLayout() []SDKLayout {
	rw := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
	ae := PageAttrEADD | PageAttrEEXTEND
	return []SDKLayout{
		{ID: LayoutHeapMin, Attributes: PageAttrEADD, PageCount: 2, RVA: tsHeap, SIFlags: rw},
		{ID: LayoutGuard, PageCount: 1, RVA: tsThread},
		{ID: LayoutStackMax, Attributes: ae | PageAttrGrowDown | PageAttrPostAdd | PageAttrPostRemove, PageCount: 1, RVA: tsThread + 0x1000, ContentSize: 0xCCCCCCCC, SIFlags: rw},
		{ID: LayoutStackMin, Attributes: ae, PageCount: 1, RVA: tsThread + 0x2000, ContentSize: 0xCCCCCCCC, SIFlags: rw},
		{ID: LayoutGuard, PageCount: 1, RVA: tsThread + 0x3000},
		{ID: LayoutTCS, Attributes: ae, PageCount: 1, RVA: tsThread + 0x4000, ContentOffset: tsTemplate, ContentSize: sdkTCSTemplateSize, SIFlags: sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0)},
		{ID: LayoutSSA, Attributes: ae, PageCount: 2, RVA: tsThread + 0x5000, SIFlags: rw},
		{ID: LayoutGuard, PageCount: 1, RVA: tsThread + 0x7000},
		{ID: LayoutTD, Attributes: ae, PageCount: 1, RVA: tsThread + 0x8000, SIFlags: rw},
		{ID: LayoutThreadGroup, EntryCount: 8, LoadTimes: 1, LoadStep: tsStep},
		{ID: LayoutGuard, PageCount: (tsSize - tsThread - 2*tsStep) / PageSize, RVA: tsThread + 2*tsStep},
	}
}

// testSDKBlock returns a metadata block (version 3.3) describing
// testLayout, with an unsigned SIGSTRUCT whose ENCLAVEHASH is hash.
func testSDKBlock(t testing.TB, hash [32]byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	b := make([]byte, tsBlockSize)
	le.PutUint64(b[mdMagic:], SDKMetadataMagic)
	le.PutUint64(b[mdVersion:], 3<<32|3)
	le.PutUint32(b[mdSize:], tsBlockSize)
	le.PutUint32(b[mdTCSPolicy:], 1)
	le.PutUint32(b[mdSSAFrameSize:], 1)
	le.PutUint32(b[mdMaxSave:], 2632)
	le.PutUint32(b[mdTCSMinPool:], 1)
	le.PutUint64(b[mdEnclaveSize:], tsSize)
	le.PutUint64(b[mdAttributes:], uint64(sgx.AttrMode64Bit|sgx.AttrDebug))
	le.PutUint64(b[mdAttributes+8:], 3)
	css := sgx.NewSigStruct()
	css.Attributes = sgx.Attributes{Flags: sgx.AttrMode64Bit | sgx.AttrDebug, XFRM: 3}
	css.AttributeMask = sgx.Attributes{Flags: ^sgx.AttributeFlags(0), XFRM: ^uint64(0)}
	css.EnclaveHash = hash
	css.ISVProdID, css.ISVSVN = 7, 9
	raw, err := css.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	copy(b[mdCSS:], raw)
	le.PutUint32(b[mdDirs+8*sdkDirPatch:], tsPatches)
	le.PutUint32(b[mdDirs+8*sdkDirPatch+4:], sdkPatchSize)
	le.PutUint32(b[mdDirs+8*sdkDirLayout:], mdHeaderSize)
	le.PutUint32(b[mdDirs+8*sdkDirLayout+4:], 11*sdkLayoutSize)
	for i, l := range testLayout() {
		r := b[mdHeaderSize+i*sdkLayoutSize:]
		le.PutUint16(r, uint16(l.ID))
		if l.ID.IsGroup() {
			le.PutUint16(r[2:], l.EntryCount)
			le.PutUint32(r[4:], l.LoadTimes)
			le.PutUint64(r[8:], l.LoadStep)
			continue
		}
		le.PutUint16(r[2:], uint16(l.Attributes))
		le.PutUint32(r[4:], l.PageCount)
		le.PutUint64(r[8:], l.RVA)
		le.PutUint32(r[16:], l.ContentSize)
		le.PutUint32(r[20:], l.ContentOffset)
		le.PutUint64(r[24:], uint64(l.SIFlags))
	}
	tcs := b[tsTemplate:]
	le.PutUint64(tcs[tcsOSSA:], 0x1000)       // SSA - TCS
	le.PutUint32(tcs[tcsNSSA:], 2)            //
	le.PutUint64(tcs[tcsOEntr:], 0x9000)      // the test image's entry
	le.PutUint64(tcs[tcsOFS:], 0x4000)        // TD - TCS
	le.PutUint64(tcs[tcsOGS:], 0x4000)        //
	le.PutUint32(tcs[64:], 0xFFFFFFFF)        // FSLIMIT
	le.PutUint32(tcs[68:], 0xFFFFFFFF)        // GSLIMIT
	le.PutUint64(b[tsPatches:], tsPatchDst)   // dst
	le.PutUint32(b[tsPatches+8:], tsPatchSrc) // src
	le.PutUint32(b[tsPatches+12:], 8)         // size
	le.PutUint64(b[tsPatchSrc:], tsPatchData) // the patch bytes
	return b
}

// sdkNote wraps metadata blocks in the sgx_metadata note.
func sdkNote(blocks ...[]byte) []byte {
	var desc []byte
	for _, b := range blocks {
		desc = append(desc, b...)
	}
	n := make([]byte, 12, 12+13+len(desc))
	binary.LittleEndian.PutUint32(n, 13)
	binary.LittleEndian.PutUint32(n[4:], uint32(len(desc)))
	binary.LittleEndian.PutUint32(n[8:], 1)
	n = append(n, SDKMetadataNote+"\x00"...)
	return append(n, desc...)
}

// sdkTestImage returns the debug test image with a `.note.sgxmeta` section
// holding note, added with objcopy.
func sdkTestImage(t testing.TB, name string, note []byte) string {
	t.Helper()
	dir := t.TempDir()
	nf := filepath.Join(dir, "note.bin")
	if err := os.WriteFile(nf, note, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".so")
	run(t, "objcopy", "--add-section", SDKMetadataSection+"="+nf, testImage(t, imgDebug), out)
	return out
}

func TestSDKMetadataDecode(t *testing.T) {
	var hash [32]byte
	hash[0] = 0xAB
	ms, err := DecodeSDKMetadataNote(sdkNote(testSDKBlock(t, hash)), 0x100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d blocks, want 1", len(ms))
	}
	m := ms[0]
	if m.Off != 0x100+25 || m.VersionString() != "3.3" || m.Size != tsBlockSize || m.TCSPolicy != 1 || m.SSAFrameSize != 1 ||
		m.MaxSaveBufferSize != 2632 || m.TCSMinPool != 1 || m.EnclaveSize != tsSize || m.ELRange || m.SharedObject ||
		m.SigStruct.EnclaveHash != hash || m.SigStruct.ISVProdID != 7 {
		t.Errorf("header: %+v", m)
	}
	want := testLayout()
	for i := range want {
		want[i].Off = 0x100 + 25 + mdHeaderSize + int64(i)*sdkLayoutSize
	}
	if !reflect.DeepEqual(m.Layout, want) {
		t.Errorf("layout:\n got %+v\nwant %+v", m.Layout, want)
	}
	if wantP := []SDKPatch{{Off: 0x100 + 25 + tsPatches, Dst: tsPatchDst, Src: tsPatchSrc, Size: 8}}; !reflect.DeepEqual(m.Patches, wantP) {
		t.Errorf("patches %+v, want %+v", m.Patches, wantP)
	}
	es, err := m.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%v@%#x", e.ID, e.RVA))
	}
	wantE := []string{"HEAP_MIN@0x10000",
		"GUARD@0x12000", "STACK_MAX@0x13000", "STACK_MIN@0x14000", "GUARD@0x15000", "TCS@0x16000", "SSA@0x17000", "GUARD@0x19000", "TD@0x1a000",
		"GUARD@0x1b000", "STACK_MAX@0x1c000", "STACK_MIN@0x1d000", "GUARD@0x1e000", "TCS@0x1f000", "SSA@0x20000", "GUARD@0x22000", "TD@0x23000",
		"GUARD@0x24000"}
	if !reflect.DeepEqual(got, wantE) {
		t.Errorf("entries\n got %v\nwant %v", got, wantE)
	}
}

func TestSDKMetadataErrors(t *testing.T) {
	const base = 0x1000
	const blk = base + 25 // file offset of the block
	layout := func(i, field int) int { return mdHeaderSize + i*sdkLayoutSize + field }
	tests := []struct {
		name  string
		edit  func(b []byte) []byte // edits the note
		off   int64
		field string
	}{
		{"no note name", func(b []byte) []byte { b[12] = 'x'; return b }, base, ".note.sgxmeta note name"},
		{"short section", func(b []byte) []byte { return b[:8] }, base, ".note.sgxmeta"},
		{"descsz past section", func(b []byte) []byte { return b[:len(b)-1] }, base + 4, ".note.sgxmeta descsz"},
		{"no magic", func(b []byte) []byte { b[25] ^= 1; return b }, blk, ".note.sgxmeta magic"},
		{"size too big", func(b []byte) []byte { put32(b, 25+mdSize, tsBlockSize+1); return b }, int64(blk + mdSize), "sgx_metadata 0 size"},
		{"version", func(b []byte) []byte { put64(b, 25+mdVersion, 4<<32); return b }, int64(blk + mdVersion), "sgx_metadata 0 version"},
		{"tcs policy", func(b []byte) []byte { put32(b, 25+mdTCSPolicy, 2); return b }, int64(blk + mdTCSPolicy), "sgx_metadata 0 tcs_policy"},
		{"ssa frame size", func(b []byte) []byte { put32(b, 25+mdSSAFrameSize, 5); return b }, int64(blk + mdSSAFrameSize), "sgx_metadata 0 ssa_frame_size"},
		{"enclave size", func(b []byte) []byte { put64(b, 25+mdEnclaveSize, 0x30000); return b }, int64(blk + mdEnclaveSize), "sgx_metadata 0 enclave_size"},
		{"css header", func(b []byte) []byte { b[25+mdCSS] = 0; return b }, int64(blk + mdCSS), "sgx_metadata 0 enclave_css"},
		{"dir outside", func(b []byte) []byte { put32(b, 25+mdDirs+8+4, 0x100000); return b }, int64(blk + mdDirs + 8), "sgx_metadata 0 dirs[1]"},
		{"layout size", func(b []byte) []byte { put32(b, 25+mdDirs+8+4, 11*sdkLayoutSize-1); return b }, int64(blk + mdDirs + 12), "sgx_metadata 0 layout size"},
		{"rva unaligned", func(b []byte) []byte { put64(b, 25+layout(0, 8), tsHeap+1); return b }, int64(blk + layout(0, 8)), "sgx_metadata 0 layout 0 rva"},
		{"rva outside", func(b []byte) []byte { put64(b, 25+layout(0, 8), tsSize); return b }, int64(blk + layout(0, 8)), "sgx_metadata 0 layout 0 rva"},
		{"content outside", func(b []byte) []byte { put32(b, 25+layout(5, 20), tsBlockSize); return b }, int64(blk + layout(5, 20)), "sgx_metadata 0 layout 5 content_offset"},
		{"si flags", func(b []byte) []byte { put64(b, 25+layout(0, 24), 0x203|0x40); return b }, int64(blk + layout(0, 24)), "sgx_metadata 0 layout 0 si_flags"},
		{"page type", func(b []byte) []byte { put64(b, 25+layout(0, 24), 0x303); return b }, int64(blk + layout(0, 24)), "sgx_metadata 0 layout 0 si_flags"},
		{"group count", func(b []byte) []byte { put16(b, 25+layout(9, 2), 10); return b }, int64(blk + layout(9, 2)), "sgx_metadata 0 layout 9 entry_count"},
		{"group step", func(b []byte) []byte { put64(b, 25+layout(9, 8), tsSize+1); return b }, int64(blk + layout(9, 8)), "sgx_metadata 0 layout 9 load_step"},
		{"patch src", func(b []byte) []byte { put32(b, 25+tsPatches+8, tsBlockSize-4); return b }, int64(blk + tsPatches + 8), "sgx_metadata 0 patch 0 src"},
		{"patch dst", func(b []byte) []byte { put64(b, 25+tsPatches, tsSize-4); return b }, int64(blk + tsPatches), "sgx_metadata 0 patch 0 dst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			note := tt.edit(sdkNote(testSDKBlock(t, [32]byte{})))
			_, err := DecodeSDKMetadataNote(note, base)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FormatError", err)
			}
			if fe.Off != tt.off || fe.Field != tt.field {
				t.Errorf("error at %#x %q, want %#x %q: %v", fe.Off, fe.Field, tt.off, tt.field, err)
			}
		})
	}
}

// TestSDKEntriesOverlap: a group stepping onto the entries after it.
func TestSDKEntriesOverlap(t *testing.T) {
	b := testSDKBlock(t, [32]byte{})
	put64(b, mdHeaderSize+9*sdkLayoutSize+8, 0x1000) // step one page: thread 1 overlaps thread 0
	ms, err := DecodeSDKMetadataNote(sdkNote(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ms[0].Entries()
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Field != "sgx_metadata layout 2 rva" || fe.Value != 0x13000 {
		t.Fatalf("error %v, want layout 2 at 0x13000 overlapping", err)
	}
}

func put16(b []byte, o int, v uint16) { binary.LittleEndian.PutUint16(b[o:], v) }
func put32(b []byte, o int, v uint32) { binary.LittleEndian.PutUint32(b[o:], v) }
func put64(b []byte, o int, v uint64) { binary.LittleEndian.PutUint64(b[o:], v) }

func TestSDKNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{LayoutHeapMin.String(), "HEAP_MIN"},
		{LayoutThreadGroup.String(), "THREAD_GROUP"},
		{LayoutThreadGroupDyn.String(), "THREAD_GROUP_DYN"},
		{LayoutUserRegion.String(), "USER_REGION"},
		{LayoutID(9).String(), "LayoutID(9)"},         // THREAD_GROUP without the group bit
		{LayoutID(0x1004).String(), "LayoutID(4100)"}, // TCS with it
		{LayoutID(24).String(), "LayoutID(24)"},
		{(PageAttrEADD | PageAttrEEXTEND).String(), "EADD+EEXTEND"},
		{(PageAttrPostAdd | PageAttrGrowDown | 0x100).String(), "POST_ADD+GROW_DOWN+0x100"},
		{PageAttr(0).String(), "0"},
		{RuntimeSGXDBG.String(), "sgxdbg"},
		{RuntimeIntelSDK.String(), "intel-sdk"},
		{Runtime(9).String(), "Runtime(9)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestSDKEntriesTooMany: a group repeated 2^32-1 times with step 0 passes
// the uRTS's own step check; the expansion is refused before it is built.
func TestSDKEntriesTooMany(t *testing.T) {
	b := testSDKBlock(t, [32]byte{})
	put32(b, mdHeaderSize+9*sdkLayoutSize+4, 0xFFFFFFFF) // load_times
	put64(b, mdHeaderSize+9*sdkLayoutSize+8, 0)          // load_step
	ms, err := DecodeSDKMetadataNote(sdkNote(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ms[0].Entries()
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Field != "sgx_metadata layout" || fe.Off != 25+mdHeaderSize+9*sdkLayoutSize || fe.Value != 9+8*0xFFFFFFFF {
		t.Fatalf("error %#v, want the group at layout 9 expanding to %d entries", err, 9+8*0xFFFFFFFF)
	}
}
