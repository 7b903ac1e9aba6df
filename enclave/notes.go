package enclave

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// NoteOwner is the ELF note name of sgxdbg's image notes.
const NoteOwner = "SGXDBG"

// NoteType is the type of an SGXDBG ELF note.
type NoteType uint32

// SGXDBG note types (enclaves/debug/README.md, "Image convention").
const (
	NoteEnclave NoteType = 1 // NT_SGXDBG_ENCLAVE: SECS and SIGSTRUCT parameters
	NoteRegions NoteType = 2 // NT_SGXDBG_REGIONS: TCS, SSA, stack, heap, guard and thread regions
)

// String returns "NT_SGXDBG_ENCLAVE", "NT_SGXDBG_REGIONS" or "NoteType(N)".
func (t NoteType) String() string {
	switch t {
	case NoteEnclave:
		return "NT_SGXDBG_ENCLAVE"
	case NoteRegions:
		return "NT_SGXDBG_REGIONS"
	}
	return "NoteType(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Descriptor sizes.
const (
	EnclaveNoteSize  = 64 // NT_SGXDBG_ENCLAVE descriptor
	RegionRecordSize = 32 // one NT_SGXDBG_REGIONS record
)

// Byte offsets within the NT_SGXDBG_ENCLAVE descriptor.
const (
	enSize         = 0
	enSSAFrameSize = 8
	enMiscSelect   = 12
	enFlags        = 16
	enXFRM         = 24
	enMiscMask     = 32
	enISVProdID    = 36
	enISVSVN       = 38
	enMaskFlags    = 40
	enMaskXFRM     = 48
	enReserved     = 56
)

// Byte offsets within a region record.
const (
	rgOffset   = 0
	rgSize     = 8
	rgKind     = 16
	rgFlags    = 20
	rgTCS      = 24
	rgReserved = 28
)

// enclaveNote is the decoded NT_SGXDBG_ENCLAVE descriptor.
type enclaveNote struct {
	off          int64 // file offset of the descriptor
	size         uint64
	ssaFrameSize uint32
	miscSelect   uint32
	flags, xfrm  uint64
	miscMask     uint32
	isvProdID    uint16
	isvSVN       uint16
	maskFlags    uint64
	maskXFRM     uint64
}

// regionRecord is one decoded NT_SGXDBG_REGIONS record.
type regionRecord struct {
	off    int64 // file offset of the record
	offset uint64
	size   uint64
	kind   uint32
	flags  uint32
	tcs    uint32
}

// imageNotes are the SGXDBG notes of an image.
type imageNotes struct {
	enclave *enclaveNote
	regions []regionRecord
}

// readNotes decodes the SGXDBG notes of every PT_NOTE segment: exactly one
// NT_SGXDBG_ENCLAVE and at most one NT_SGXDBG_REGIONS. Notes of other
// owners, and SGXDBG notes of other types, are skipped.
func readNotes(f *elf.File, r io.ReaderAt, h header, size int64) (imageNotes, error) {
	var n imageNotes
	regionsOff := int64(-1)
	for i, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		name := fmt.Sprintf("PT_NOTE %d", i)
		if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
			return n, formatErr(h.phOff(i)+phFilesz, name+" p_filesz", p.Filesz,
				"file bytes [%#x, +%#x) extend past the end of the file (%#x bytes)", p.Off, p.Filesz, size)
		}
		buf := make([]byte, p.Filesz)
		if _, err := r.ReadAt(buf, int64(p.Off)); err != nil {
			return n, fmt.Errorf("read %s: %w", name, err)
		}
		align := uint64(4)
		if p.Align == 8 {
			align = 8
		}
		err := eachNote(buf, align, int64(p.Off), name, func(typ NoteType, desc []byte, descOff int64) error {
			switch typ {
			case NoteEnclave:
				if n.enclave != nil {
					return formatErr(descOff, typ.String(), uint64(typ), "duplicated (the first is at offset %#x)", n.enclave.off)
				}
				e, err := decodeEnclaveNote(desc, descOff)
				n.enclave = e
				return err
			case NoteRegions:
				if regionsOff >= 0 {
					return formatErr(descOff, typ.String(), uint64(typ), "duplicated (the first is at offset %#x)", regionsOff)
				}
				regionsOff = descOff
				rs, err := decodeRegions(desc, descOff)
				n.regions = rs
				return err
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	if n.enclave == nil {
		return n, formatErr(-1, NoteEnclave.String(), uint64(NoteEnclave), "missing: no SGXDBG note of this type in any PT_NOTE")
	}
	return n, nil
}

// eachNote calls fn for each note of owner SGXDBG in buf, the contents of
// a PT_NOTE segment at file offset base whose notes are aligned to align.
func eachNote(buf []byte, align uint64, base int64, seg string, fn func(NoteType, []byte, int64) error) error {
	le := binary.LittleEndian
	up := func(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }
	for o := uint64(0); o+12 <= uint64(len(buf)); {
		namesz, descsz := uint64(le.Uint32(buf[o:])), uint64(le.Uint32(buf[o+4:]))
		typ := NoteType(le.Uint32(buf[o+8:]))
		nameOff := o + 12
		descOff := up(nameOff + namesz)
		end := descOff + descsz
		if end > uint64(len(buf)) {
			return formatErr(base+int64(o), seg+" note", descsz,
				"note of %d+%d bytes runs past the end of the segment (%d bytes)", namesz, descsz, len(buf))
		}
		if string(buf[nameOff:nameOff+namesz]) == NoteOwner+"\x00" {
			if err := fn(typ, buf[descOff:end], base+int64(descOff)); err != nil {
				return err
			}
		}
		o = up(end)
	}
	return nil
}

// decodeEnclaveNote decodes the NT_SGXDBG_ENCLAVE descriptor at file
// offset off.
func decodeEnclaveNote(d []byte, off int64) (*enclaveNote, error) {
	if len(d) != EnclaveNoteSize {
		return nil, formatErr(off, NoteEnclave.String()+" descsz", uint64(len(d)), "want %d", EnclaveNoteSize)
	}
	le := binary.LittleEndian
	if v := le.Uint64(d[enReserved:]); v != 0 {
		return nil, formatErr(off+enReserved, NoteEnclave.String()+" reserved", v, "must be zero")
	}
	return &enclaveNote{
		off:          off,
		size:         le.Uint64(d[enSize:]),
		ssaFrameSize: le.Uint32(d[enSSAFrameSize:]),
		miscSelect:   le.Uint32(d[enMiscSelect:]),
		flags:        le.Uint64(d[enFlags:]),
		xfrm:         le.Uint64(d[enXFRM:]),
		miscMask:     le.Uint32(d[enMiscMask:]),
		isvProdID:    le.Uint16(d[enISVProdID:]),
		isvSVN:       le.Uint16(d[enISVSVN:]),
		maskFlags:    le.Uint64(d[enMaskFlags:]),
		maskXFRM:     le.Uint64(d[enMaskXFRM:]),
	}, nil
}

// decodeRegions decodes the NT_SGXDBG_REGIONS descriptor at file offset
// off. Record contents are checked later, against the segments.
func decodeRegions(d []byte, off int64) ([]regionRecord, error) {
	if len(d)%RegionRecordSize != 0 {
		return nil, formatErr(off, NoteRegions.String()+" descsz", uint64(len(d)),
			"not a multiple of %d", RegionRecordSize)
	}
	le := binary.LittleEndian
	rs := make([]regionRecord, 0, len(d)/RegionRecordSize)
	for o := 0; o < len(d); o += RegionRecordSize {
		rec := d[o : o+RegionRecordSize]
		roff := off + int64(o)
		if v := le.Uint32(rec[rgReserved:]); v != 0 {
			return nil, formatErr(roff+rgReserved, fmt.Sprintf("region %d reserved", len(rs)), uint64(v), "must be zero")
		}
		rs = append(rs, regionRecord{
			off:    roff,
			offset: le.Uint64(rec[rgOffset:]),
			size:   le.Uint64(rec[rgSize:]),
			kind:   le.Uint32(rec[rgKind:]),
			flags:  le.Uint32(rec[rgFlags:]),
			tcs:    le.Uint32(rec[rgTCS:]),
		})
	}
	return rs, nil
}
