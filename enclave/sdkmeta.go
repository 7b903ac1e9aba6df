package enclave

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// The Intel SGX SDK's signing tool (sgx_sign) stores the enclave's load
// recipe in the `.note.sgxmeta` section (not loaded, not measured): one ELF
// note named "sgx_metadata" whose descriptor holds one or more metadata_t
// blocks back to back (linux-sgx common/inc/internal/metadata.h). Each block
// has its own layout and SIGSTRUCT: the uRTS picks the newest version the
// platform supports (psw/urts/urts_com.h), skipping 2.x blocks.

// SDK metadata constants (metadata.h).
const (
	SDKMetadataMagic      = 0x86A80294635D0E4C // metadata_t.magic_num
	SDKMetadataNote       = "sgx_metadata"     // the note's name
	SDKMetadataSection    = ".note.sgxmeta"    // the section holding the note
	sdkTCSTemplateSize    = 72                 // TCS_TEMPLATE_SIZE
	sdkLayoutSize         = 32                 // sizeof(layout_t)
	sdkPatchSize          = 32                 // sizeof(patch_entry_t)
	sdkDirNum             = 4                  // DIR_PATCH, DIR_LAYOUT, DIR_ELRANGE, DIR_EXTEND
	sdkGroupFlag          = 1 << 12            // GROUP_FLAG in a layout id
	sdkMajorGap           = 10                 // SGX_MAJOR_VERSION_GAP: +10 marks ELRANGE metadata
	sdkExtendSharedObject = 0x1002             // EXTEND_ENTRY_ID_SHARED_OBJECT
	maxSDKEntries         = 1 << 20            // expanded layout entries, far above any real enclave
)

// Byte offsets within metadata_t (packed).
const (
	mdMagic        = 0
	mdVersion      = 8
	mdSize         = 16
	mdTCSPolicy    = 20
	mdSSAFrameSize = 24
	mdMaxSave      = 28
	mdMiscSelect   = 32
	mdTCSMinPool   = 36
	mdEnclaveSize  = 40
	mdAttributes   = 48
	mdCSS          = 64
	mdDirs         = mdCSS + sgx.SigStructSize // 1872
	mdHeaderSize   = mdDirs + 8*sdkDirNum      // 1904: the fixed part before data[]
)

// SDK metadata directories (dir_index_t).
const (
	sdkDirPatch   = 0
	sdkDirLayout  = 1
	sdkDirELRange = 2
	sdkDirExtend  = 3
)

// LayoutID is a layout_entry_t id (LAYOUT_ID_*); a group's id has bit 12
// set (GROUP_ID).
type LayoutID uint16

// Layout ids the SDK defines (metadata.h).
const (
	LayoutHeapMin        LayoutID = 1
	LayoutHeapInit       LayoutID = 2
	LayoutHeapMax        LayoutID = 3
	LayoutTCS            LayoutID = 4
	LayoutTD             LayoutID = 5
	LayoutSSA            LayoutID = 6
	LayoutStackMax       LayoutID = 7
	LayoutStackMin       LayoutID = 8
	LayoutThreadGroup    LayoutID = sdkGroupFlag | 9
	LayoutGuard          LayoutID = 10
	LayoutHeapDynMin     LayoutID = 11
	LayoutHeapDynInit    LayoutID = 12
	LayoutHeapDynMax     LayoutID = 13
	LayoutTCSDyn         LayoutID = 14
	LayoutTDDyn          LayoutID = 15
	LayoutSSADyn         LayoutID = 16
	LayoutStackDynMax    LayoutID = 17
	LayoutStackDynMin    LayoutID = 18
	LayoutThreadGroupDyn LayoutID = sdkGroupFlag | 19
	LayoutRsrvMin        LayoutID = 20
	LayoutRsrvInit       LayoutID = 21
	LayoutRsrvMax        LayoutID = 22
	LayoutUserRegion     LayoutID = 23
)

var layoutIDNames = [...]string{
	"", "HEAP_MIN", "HEAP_INIT", "HEAP_MAX", "TCS", "TD", "SSA", "STACK_MAX", "STACK_MIN", "THREAD_GROUP",
	"GUARD", "HEAP_DYN_MIN", "HEAP_DYN_INIT", "HEAP_DYN_MAX", "TCS_DYN", "TD_DYN", "SSA_DYN",
	"STACK_DYN_MAX", "STACK_DYN_MIN", "THREAD_GROUP_DYN", "RSRV_MIN", "RSRV_INIT", "RSRV_MAX", "USER_REGION",
}

// IsGroup reports whether the id is a group's (bit 12 set).
func (id LayoutID) IsGroup() bool { return id&sdkGroupFlag != 0 }

// String returns the SDK's name ("TCS", "THREAD_GROUP") or "LayoutID(N)".
func (id LayoutID) String() string {
	n := id &^ sdkGroupFlag
	if n > 0 && int(n) < len(layoutIDNames) && (id.IsGroup() == (n == 9 || n == 19)) {
		return layoutIDNames[n]
	}
	return "LayoutID(" + strconv.FormatUint(uint64(id), 10) + ")"
}

// PageAttr is a layout entry's attributes (se_page_attr.h).
type PageAttr uint16

// Page attribute bits.
const (
	PageAttrEADD       PageAttr = 1 << 0 // added at load (EADD)
	PageAttrEEXTEND    PageAttr = 1 << 1 // measured (EEXTEND)
	PageAttrEREMOVE    PageAttr = 1 << 2 // removed after load where EDMM exists
	PageAttrPostAdd    PageAttr = 1 << 3 // added later with EAUG (EDMM)
	PageAttrPostRemove PageAttr = 1 << 4 // may be removed later (EDMM)
	PageAttrDynThread  PageAttr = 1 << 5 // a dynamic thread's page
	PageAttrGrowDown   PageAttr = 1 << 6 // a stack that grows down
)

var pageAttrNames = [...]string{"EADD", "EEXTEND", "EREMOVE", "POST_ADD", "POST_REMOVE", "DYN_THREAD", "GROW_DOWN"}

// String renders the bits joined by "+" ("EADD+EEXTEND"), unknown bits
// in hex, "0" for none.
func (a PageAttr) String() string {
	var parts []string
	for i, n := range pageAttrNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := a &^ (1<<len(pageAttrNames) - 1); rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint16(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "+")
}

// SDKLayout is one raw layout_t record: an entry, or a group that repeats
// the EntryCount records before it LoadTimes times, each time LoadStep
// further.
type SDKLayout struct {
	Off int64 // file offset of the record
	ID  LayoutID
	// Entry fields (ID.IsGroup() false).
	Attributes    PageAttr
	PageCount     uint32
	RVA           uint64
	ContentSize   uint32 // with ContentOffset 0: a 32-bit fill pattern (0: zeros)
	ContentOffset uint32 // from the start of the metadata block, 0: none
	SIFlags       sgx.SecinfoFlags
	// Group fields (ID.IsGroup() true).
	EntryCount uint16
	LoadTimes  uint32
	LoadStep   uint64
}

// SDKPatch is one patch_entry_t: before loading, the uRTS copies Size
// bytes from the metadata block at Src to the file at Dst.
type SDKPatch struct {
	Off  int64 // file offset of the record
	Dst  uint64
	Src  uint32
	Size uint32
}

// SDKMetadata is one decoded metadata_t block.
type SDKMetadata struct {
	Off               int64  // file offset of the block
	Version           uint64 // major << 32 | minor
	Size              uint32 // the block's size in bytes
	TCSPolicy         uint32 // 0 bound, 1 unbound
	SSAFrameSize      uint32 // pages
	MaxSaveBufferSize uint32
	MiscSelect        uint32 // desired_misc_select
	TCSMinPool        uint32
	EnclaveSize       uint64
	Attributes        sgx.Attributes // the attributes to set in the SECS
	SigStruct         sgx.SigStruct  // enclave_css
	Layout            []SDKLayout    // the layout table, in table order
	Patches           []SDKPatch
	ELRange           bool // the block configures an ELRANGE (major version > 10)
	// SharedObject: the extend table adds an OpenSSL FIPS provider
	// (EXTEND_ENTRY_ID_SHARED_OBJECT), loaded at an offset of its own.
	SharedObject bool

	raw []byte // the block's Size bytes
}

// Major returns the metadata's major version.
func (m *SDKMetadata) Major() uint32 { return uint32(m.Version >> 32) }

// Minor returns the metadata's minor version.
func (m *SDKMetadata) Minor() uint32 { return uint32(m.Version) }

// VersionString renders "3.3".
func (m *SDKMetadata) VersionString() string { return fmt.Sprintf("%d.%d", m.Major(), m.Minor()) }

// content returns n bytes of the block at off; the decoder checked that
// every content reference is inside the block.
func (m *SDKMetadata) content(off, n uint32) []byte { return m.raw[off : off+n] }

// DecodeSDKMetadataNote decodes the contents of a `.note.sgxmeta` section
// at file offset base: one note named "sgx_metadata" whose descriptor holds
// metadata blocks until one does not start with the magic number. Every
// field the uRTS validates is checked as it does (psw/urts/loader.cpp
// validate_metadata), offsets and sizes against the block, RVAs against
// the enclave size; a violation is a *FormatError at its file offset.
func DecodeSDKMetadataNote(sec []byte, base int64) ([]*SDKMetadata, error) {
	le := binary.LittleEndian
	if len(sec) < 12 {
		return nil, formatErr(base, SDKMetadataSection, uint64(len(sec)), "truncated: a note header needs 12 bytes")
	}
	namesz, descsz := uint64(le.Uint32(sec)), uint64(le.Uint32(sec[4:]))
	if namesz != uint64(len(SDKMetadataNote)+1) || uint64(len(sec)) < 12+namesz ||
		string(sec[12:12+namesz]) != SDKMetadataNote+"\x00" {
		return nil, formatErr(base, SDKMetadataSection+" note name", namesz, "the note is not named %q", SDKMetadataNote)
	}
	descOff := 12 + namesz // the SDK puts the descriptor right after the name, unpadded
	if descsz > uint64(len(sec))-descOff {
		return nil, formatErr(base+4, SDKMetadataSection+" descsz", descsz,
			"the descriptor runs past the section (%d bytes)", len(sec))
	}
	desc := sec[descOff : descOff+descsz]
	var out []*SDKMetadata
	for o := uint64(0); o+8 <= uint64(len(desc)) && le.Uint64(desc[o:]) == SDKMetadataMagic; {
		m, err := decodeSDKMetadata(desc[o:], base+int64(descOff+o), len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		o += uint64(m.Size)
	}
	if len(out) == 0 {
		return nil, formatErr(base+int64(descOff), SDKMetadataSection+" magic", 0, "no metadata block (magic %#x)", uint64(SDKMetadataMagic))
	}
	return out, nil
}

// decodeSDKMetadata decodes the block at the start of b (file offset off),
// the n-th of its note.
func decodeSDKMetadata(b []byte, off int64, n int) (*SDKMetadata, error) {
	le := binary.LittleEndian
	name := fmt.Sprintf("sgx_metadata %d", n)
	if len(b) < mdHeaderSize {
		return nil, formatErr(off, name, uint64(len(b)), "truncated: %d bytes left, a block needs at least %d", len(b), mdHeaderSize)
	}
	m := &SDKMetadata{
		Off:               off,
		Version:           le.Uint64(b[mdVersion:]),
		Size:              le.Uint32(b[mdSize:]),
		TCSPolicy:         le.Uint32(b[mdTCSPolicy:]),
		SSAFrameSize:      le.Uint32(b[mdSSAFrameSize:]),
		MaxSaveBufferSize: le.Uint32(b[mdMaxSave:]),
		MiscSelect:        le.Uint32(b[mdMiscSelect:]),
		TCSMinPool:        le.Uint32(b[mdTCSMinPool:]),
		EnclaveSize:       le.Uint64(b[mdEnclaveSize:]),
		Attributes:        sgx.Attributes{Flags: sgx.AttributeFlags(le.Uint64(b[mdAttributes:])), XFRM: le.Uint64(b[mdAttributes+8:])},
	}
	major := m.Major()
	switch {
	case m.Size < mdHeaderSize || uint64(m.Size) > uint64(len(b)):
		return nil, formatErr(off+mdSize, name+" size", uint64(m.Size), "not in [%d, %d]: the block's bytes", mdHeaderSize, len(b))
	case major%sdkMajorGap < 1 || major%sdkMajorGap > 3 || major > 2*sdkMajorGap:
		return nil, formatErr(off+mdVersion, name+" version", m.Version, "unknown metadata version %s", m.VersionString())
	case m.TCSPolicy > 1:
		return nil, formatErr(off+mdTCSPolicy, name+" tcs_policy", uint64(m.TCSPolicy), "neither 0 (bound) nor 1 (unbound)")
	case m.SSAFrameSize < 1 || m.SSAFrameSize > 4:
		return nil, formatErr(off+mdSSAFrameSize, name+" ssa_frame_size", uint64(m.SSAFrameSize), "not in [1, 4] pages")
	case m.EnclaveSize < minSize || bits.OnesCount64(m.EnclaveSize) != 1 || m.EnclaveSize > 1<<47:
		return nil, formatErr(off+mdEnclaveSize, name+" enclave_size", m.EnclaveSize, "not a power of two in [8 KiB, 128 TiB]")
	}
	m.raw = b[:m.Size:m.Size]
	m.ELRange = major > sdkMajorGap
	if err := m.SigStruct.UnmarshalBinary(b[mdCSS:mdDirs]); err != nil {
		return nil, &FormatError{Off: off + mdCSS, Field: name + " enclave_css", Msg: "malformed SIGSTRUCT", Err: err}
	}
	var dirs [sdkDirNum][2]uint32
	for i := range dirs {
		d := b[mdDirs+8*i:]
		dirs[i] = [2]uint32{le.Uint32(d), le.Uint32(d[4:])}
		if !m.inBlock(dirs[i][0], dirs[i][1]) {
			return nil, formatErr(off+mdDirs+8*int64(i), fmt.Sprintf("%s dirs[%d]", name, i), uint64(dirs[i][0]),
				"[%#x, +%#x) outside the block (%#x bytes)", dirs[i][0], dirs[i][1], m.Size)
		}
	}
	if extendSupported(m.Version) && dirs[sdkDirExtend][0] != 0 {
		for o := dirs[sdkDirExtend][0]; o+16 <= dirs[sdkDirExtend][0]+dirs[sdkDirExtend][1]; o += 16 {
			if e := m.raw[o:]; le.Uint32(e) == sdkExtendSharedObject && le.Uint32(e[4:]) != 0 && le.Uint32(e[8:]) != 0 {
				m.SharedObject = true
			}
		}
	}
	if err := m.decodeLayout(dirs[sdkDirLayout], name); err != nil {
		return nil, err
	}
	if err := m.decodePatches(dirs[sdkDirPatch], name); err != nil {
		return nil, err
	}
	return m, nil
}

// extendSupported mirrors loader.cpp is_extend_entry_supported: which
// versions have an extend table.
func extendSupported(v uint64) bool {
	major, minor := uint32(v>>32)%sdkMajorGap, uint32(v)
	return major != 2 && (major != 1 || minor >= 5) && (major != 3 || minor >= 2)
}

// inBlock is loader.cpp is_metadata_buffer: [off, off+n) inside the block,
// or both zero.
func (m *SDKMetadata) inBlock(off, n uint32) bool {
	if off == 0 && n == 0 {
		return true
	}
	end := uint64(off) + uint64(n)
	return off < m.Size && end <= uint64(m.Size)
}

// inEnclave is loader.cpp is_enclave_buffer.
func (m *SDKMetadata) inEnclave(off, n uint64) bool {
	return off < m.EnclaveSize && n <= m.EnclaveSize-off
}

func (m *SDKMetadata) decodeLayout(dir [2]uint32, name string) error {
	le := binary.LittleEndian
	if dir[1]%sdkLayoutSize != 0 {
		return formatErr(m.Off+mdDirs+8*sdkDirLayout+4, name+" layout size", uint64(dir[1]), "not a multiple of %d", sdkLayoutSize)
	}
	for o := dir[0]; o < dir[0]+dir[1]; o += sdkLayoutSize {
		r := m.raw[o:]
		l := SDKLayout{Off: m.Off + int64(o), ID: LayoutID(le.Uint16(r))}
		field := fmt.Sprintf("%s layout %d", name, len(m.Layout))
		if l.ID.IsGroup() {
			l.EntryCount, l.LoadTimes, l.LoadStep = le.Uint16(r[2:]), le.Uint32(r[4:]), le.Uint64(r[8:])
			if int(l.EntryCount) > len(m.Layout) {
				return formatErr(l.Off+2, field+" entry_count", uint64(l.EntryCount), "more than the %d records before the group", len(m.Layout))
			}
			for _, e := range m.Layout[len(m.Layout)-int(l.EntryCount):] {
				if e.ID.IsGroup() {
					return formatErr(l.Off+2, field+" entry_count", uint64(l.EntryCount), "the group repeats another group (%v)", e.ID)
				}
			}
			if l.LoadStep > 0 && uint64(l.LoadTimes) > m.EnclaveSize/l.LoadStep { // the last step, LoadTimes×LoadStep, past the size
				return formatErr(l.Off+8, field+" load_step", l.LoadStep, "%d steps go past the enclave size %#x", l.LoadTimes, m.EnclaveSize)
			}
		} else {
			l.Attributes, l.PageCount, l.RVA = PageAttr(le.Uint16(r[2:])), le.Uint32(r[4:]), le.Uint64(r[8:])
			l.ContentSize, l.ContentOffset, l.SIFlags = le.Uint32(r[16:]), le.Uint32(r[20:]), sgx.SecinfoFlags(le.Uint64(r[24:]))
			switch {
			case l.RVA%PageSize != 0:
				return formatErr(l.Off+8, field+" rva", l.RVA, "%v entry not page aligned", l.ID)
			case !m.inEnclave(l.RVA, uint64(l.PageCount)*PageSize):
				return formatErr(l.Off+8, field+" rva", l.RVA, "%v entry [%#x, +%d pages) outside the enclave (%#x)", l.ID, l.RVA, l.PageCount, m.EnclaveSize)
			case l.ContentOffset != 0 && !m.inBlock(l.ContentOffset, l.ContentSize):
				return formatErr(l.Off+20, field+" content_offset", uint64(l.ContentOffset), "content [%#x, +%#x) outside the block", l.ContentOffset, l.ContentSize)
			case l.ContentOffset != 0 && uint64(l.ContentSize) > uint64(l.PageCount)*PageSize:
				return formatErr(l.Off+16, field+" content_size", uint64(l.ContentSize), "more than the entry's %d pages", l.PageCount)
			case l.SIFlags&^(sgx.SecinfoR|sgx.SecinfoW|sgx.SecinfoX|0xff<<8) != 0:
				return formatErr(l.Off+24, field+" si_flags", uint64(l.SIFlags), "bits other than R, W, X and the page type")
			case l.SIFlags != 0 && l.SIFlags.PageType() != sgx.PageTypeREG && l.SIFlags.PageType() != sgx.PageTypeTCS:
				return formatErr(l.Off+24, field+" si_flags", uint64(l.SIFlags), "page type %v: only REG and TCS pages are added", l.SIFlags.PageType())
			case l.SIFlags.PageType() == sgx.PageTypeTCS && l.Attributes&PageAttrEADD != 0 && l.ContentOffset == 0:
				return formatErr(l.Off+20, field+" content_offset", 0, "a TCS entry without a TCS template")
			case l.SIFlags.PageType() == sgx.PageTypeTCS && l.ContentSize > sgx.TCSDebugReadable:
				return formatErr(l.Off+16, field+" content_size", uint64(l.ContentSize), "a TCS template larger than the TCS's %d defined bytes", sgx.TCSDebugReadable)
			}
		}
		m.Layout = append(m.Layout, l)
	}
	return nil
}

func (m *SDKMetadata) decodePatches(dir [2]uint32, name string) error {
	le := binary.LittleEndian
	if dir[1]%sdkPatchSize != 0 {
		return formatErr(m.Off+mdDirs+8*sdkDirPatch+4, name+" patch size", uint64(dir[1]), "not a multiple of %d", sdkPatchSize)
	}
	for o := dir[0]; o < dir[0]+dir[1]; o += sdkPatchSize {
		r := m.raw[o:]
		p := SDKPatch{Off: m.Off + int64(o), Dst: le.Uint64(r), Src: le.Uint32(r[8:]), Size: le.Uint32(r[12:])}
		field := fmt.Sprintf("%s patch %d", name, len(m.Patches))
		switch {
		case !m.inBlock(p.Src, p.Size):
			return formatErr(p.Off+8, field+" src", uint64(p.Src), "[%#x, +%#x) outside the block", p.Src, p.Size)
		case !m.inEnclave(p.Dst, uint64(p.Size)):
			return formatErr(p.Off, field+" dst", p.Dst, "[%#x, +%#x) outside the enclave size", p.Dst, p.Size)
		}
		m.Patches = append(m.Patches, p)
	}
	return nil
}

// SDKEntry is one layout entry as the uRTS loads it: groups expanded, RVA
// moved by the group's step.
type SDKEntry struct {
	SDKLayout        // the table record (RVA as recorded)
	Table     int    // its index in the layout table
	RVA       uint64 // where it loads: the record's RVA plus the group's step
}

// Entries expands the layout table in the order the uRTS loads it
// (loader.cpp build_contexts): each entry, and each group as its EntryCount
// preceding records again, LoadTimes times, each step LoadStep further.
// Entries whose RVA ranges overlap are an error (validate_layout_table).
func (m *SDKMetadata) Entries() ([]SDKEntry, error) {
	// Count first (a group repeats entries only, never a group), so that a
	// huge LoadTimes costs nothing.
	n := uint64(0)
	for _, l := range m.Layout {
		if l.ID.IsGroup() {
			n += uint64(l.LoadTimes) * uint64(l.EntryCount)
		} else {
			n++
		}
		if n > maxSDKEntries {
			return nil, formatErr(l.Off, "sgx_metadata layout", n, "more than %d entries once groups are expanded", maxSDKEntries)
		}
	}
	out := make([]SDKEntry, 0, n)
	var pages uint64
	var walk func(lo, hi int, delta uint64) error
	walk = func(lo, hi int, delta uint64) error {
		for i := lo; i < hi; i++ {
			l := m.Layout[i]
			if !l.ID.IsGroup() {
				rva := l.RVA + delta
				if !m.inEnclave(rva, uint64(l.PageCount)*PageSize) {
					return formatErr(l.Off+8, fmt.Sprintf("sgx_metadata layout %d rva", i), rva,
						"%v entry moved by %#x to [%#x, +%d pages) is outside the enclave (%#x)", l.ID, delta, rva, l.PageCount, m.EnclaveSize)
				}
				if l.Attributes&PageAttrEADD != 0 {
					if pages += uint64(l.PageCount); pages > MaxPages {
						return formatErr(l.Off+4, "sgx_metadata layout page_count", pages, "more than %d pages are added", MaxPages)
					}
				}
				out = append(out, SDKEntry{SDKLayout: l, Table: i, RVA: rva})
				continue
			}
			if l.EntryCount == 0 {
				continue // repeats nothing, however often
			}
			step := uint64(0)
			for range l.LoadTimes {
				step += l.LoadStep
				if err := walk(i-int(l.EntryCount), i, step); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(0, len(m.Layout), 0); err != nil {
		return nil, err
	}
	if err := checkEntryOverlap(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkEntryOverlap reports two expanded entries that share a page.
func checkEntryOverlap(es []SDKEntry) error {
	idx := make([]int, 0, len(es))
	for i, e := range es {
		if e.PageCount > 0 {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return es[idx[a]].RVA < es[idx[b]].RVA })
	for k := 1; k < len(idx); k++ {
		a, b := es[idx[k-1]], es[idx[k]]
		if a.RVA+uint64(a.PageCount)*PageSize > b.RVA {
			return formatErr(b.Off+8, fmt.Sprintf("sgx_metadata layout %d rva", b.Table), b.RVA,
				"%v entry at %#x overlaps %v entry [%#x, +%d pages)", b.ID, b.RVA, a.ID, a.RVA, a.PageCount)
		}
	}
	return nil
}
