package sgx

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// Measurement computes MRENCLAVE the way ECREATE, EADD, EEXTEND and EINIT
// do (SGX.md §1): one SHA-256 stream of 64-byte records. It is not safe for
// concurrent use.
type Measurement struct {
	h   hash.Hash
	rec [64]byte // reused for every record header: no allocation per chunk
}

// measureChunk is the size of the data EEXTEND measures.
const measureChunk = 256

// NewMeasurement starts a measurement with the ECREATE record:
// "ECREATE\0", SSAFRAMESIZE (u32 @8), SIZE (u64 @12), zeros. The
// CET_LEG_BITMAP_OFFSET newer processors record at @20 is taken as 0.
func NewMeasurement(size uint64, ssaFrameSize uint32) *Measurement {
	m := &Measurement{h: sha256.New()}
	copy(m.rec[:8], "ECREATE\x00")
	binary.LittleEndian.PutUint32(m.rec[8:], ssaFrameSize)
	binary.LittleEndian.PutUint64(m.rec[12:], size)
	m.h.Write(m.rec[:])
	return m
}

// EADD records a page added at offset (linear address − BASEADDR):
// "EADD\0\0\0\0", the offset (u64 @8) and SECINFO bytes 0..47 @16, that is
// the flags followed by zeros. As EADD does, the R/W/X bits of a TCS page
// are cleared before they are measured. EADD takes page-aligned offsets;
// checking that is the caller's job (AddPage does it).
func (m *Measurement) EADD(offset uint64, secinfo SecinfoFlags) {
	if secinfo.PageType() == PageTypeTCS {
		secinfo &^= secinfoPerm
	}
	m.header("EADD\x00\x00\x00\x00", offset)
	binary.LittleEndian.PutUint64(m.rec[16:], uint64(secinfo))
	m.h.Write(m.rec[:])
}

// EEXTEND records one 256-byte chunk at a 256-aligned offset:
// "EEXTEND\0", the offset (u64 @8), zeros, then the 256 data bytes.
func (m *Measurement) EEXTEND(offset uint64, chunk []byte) error {
	if len(chunk) != measureChunk {
		return fmt.Errorf("EEXTEND at %#x: chunk of %d bytes, need 256", offset, len(chunk))
	}
	if offset%measureChunk != 0 {
		return fmt.Errorf("EEXTEND at %#x: offset not 256-byte aligned", offset)
	}
	m.eextend(offset, chunk)
	return nil
}

func (m *Measurement) eextend(offset uint64, chunk []byte) {
	m.header("EEXTEND\x00", offset)
	m.h.Write(m.rec[:])
	m.h.Write(chunk)
}

// header fills rec with an 8-byte tag, a u64 at 8 and zeros after it.
func (m *Measurement) header(tag string, v uint64) {
	copy(m.rec[:8], tag)
	binary.LittleEndian.PutUint64(m.rec[8:], v)
	clear(m.rec[16:])
}

// AddPage records EADD of a 4096-byte page at a page-aligned offset and,
// if measure is set, the 16 EEXTENDs of its contents (what the Linux ioctl
// does for SGX_PAGE_MEASURE).
func (m *Measurement) AddPage(offset uint64, secinfo SecinfoFlags, page []byte, measure bool) error {
	if len(page) != PageSize {
		return fmt.Errorf("add page at %#x: %d bytes, need 4096", offset, len(page))
	}
	if offset%PageSize != 0 {
		return fmt.Errorf("add page at %#x: offset not page aligned", offset)
	}
	m.EADD(offset, secinfo)
	if measure {
		for i := 0; i < PageSize; i += measureChunk {
			m.eextend(offset+uint64(i), page[i:i+measureChunk])
		}
	}
	return nil
}

// Sum returns MRENCLAVE as EINIT would finalize it now. It does not change
// the running state: more pages may be added and Sum called again (the
// hardware allows no EADD after EINIT, but a debugger may want the hash of
// a partly built enclave).
func (m *Measurement) Sum() [32]byte {
	var out [32]byte
	m.h.Sum(out[:0])
	return out
}
