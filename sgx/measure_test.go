package sgx

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// goldenMRENCLAVE is the MRENCLAVE of the worked example below, computed
// independently (Python hashlib over the records of SGX.md §1).
const goldenMRENCLAVE = "b8e9651cc79a7dcbaf84664676f30c358983580a376e4f3be7ae1c4960a87c09"

// handMRENCLAVE builds the record stream of the worked example with
// encoding/binary and crypto/sha256 only: SIZE 0x4000, SSAFRAMESIZE 1, a
// measured REG R+X page at 0 filled with 0xCC, an unmeasured TCS at 0x1000.
func handMRENCLAVE() [32]byte {
	h := sha256.New()
	rec := func(tag string, fill func(r []byte)) {
		r := make([]byte, 64)
		copy(r, tag)
		fill(r)
		h.Write(r)
	}
	rec("ECREATE\x00", func(r []byte) {
		binary.LittleEndian.PutUint32(r[8:], 1)
		binary.LittleEndian.PutUint64(r[12:], 0x4000)
	})
	rec("EADD\x00\x00\x00\x00", func(r []byte) {
		binary.LittleEndian.PutUint64(r[8:], 0)
		binary.LittleEndian.PutUint64(r[16:], 0x205) // R|X, PT_REG<<8
	})
	page := bytes.Repeat([]byte{0xCC}, 4096)
	for off := 0; off < 4096; off += 256 {
		rec("EEXTEND\x00", func(r []byte) { binary.LittleEndian.PutUint64(r[8:], uint64(off)) })
		h.Write(page[off : off+256])
	}
	rec("EADD\x00\x00\x00\x00", func(r []byte) {
		binary.LittleEndian.PutUint64(r[8:], 0x1000)
		binary.LittleEndian.PutUint64(r[16:], 0x100) // PT_TCS<<8
	})
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestMRENCLAVEWorkedExample(t *testing.T) {
	m := NewMeasurement(0x4000, 1)
	page := bytes.Repeat([]byte{0xCC}, 4096)
	if err := m.AddPage(0, MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoX), page, true); err != nil {
		t.Fatal(err)
	}
	tcs, _ := (&TCS{OSSA: 0x2000, NSSA: 1}).MarshalBinary()
	if err := m.AddPage(0x1000, MakeSecinfoFlags(PageTypeTCS, 0), tcs, false); err != nil {
		t.Fatal(err)
	}
	got := m.Sum()
	if want := handMRENCLAVE(); got != want {
		t.Errorf("Measurement = %x, hand-built records = %x", got, want)
	}
	if hex.EncodeToString(got[:]) != goldenMRENCLAVE {
		t.Errorf("MRENCLAVE = %x, golden %s", got, goldenMRENCLAVE)
	}
	// Sum leaves the state alone.
	if again := m.Sum(); again != got {
		t.Errorf("second Sum = %x, first %x", again, got)
	}
}

// TestMeasurementPieces checks that EADD+EEXTEND give what AddPage gives,
// and that a TCS's R/W/X bits are not measured (EADD clears them).
func TestMeasurementPieces(t *testing.T) {
	page := bytes.Repeat([]byte{0xCC}, 4096)
	a := NewMeasurement(0x4000, 1)
	a.EADD(0, MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoX))
	for off := 0; off < 4096; off += 256 {
		if err := a.EEXTEND(uint64(off), page[off:off+256]); err != nil {
			t.Fatal(err)
		}
	}
	a.EADD(0x1000, MakeSecinfoFlags(PageTypeTCS, SecinfoR|SecinfoW))
	if got := a.Sum(); hex.EncodeToString(got[:]) != goldenMRENCLAVE {
		t.Errorf("EADD/EEXTEND pieces = %x, want golden %s", got, goldenMRENCLAVE)
	}
}

func TestMeasurementErrors(t *testing.T) {
	m := NewMeasurement(0x4000, 1)
	if m.EEXTEND(0, make([]byte, 255)) == nil {
		t.Error("EEXTEND of 255 bytes: no error")
	}
	if m.EEXTEND(128, make([]byte, 256)) == nil {
		t.Error("EEXTEND at offset 128: no error")
	}
	if m.AddPage(0, MakeSecinfoFlags(PageTypeREG, SecinfoR), make([]byte, 4095), true) == nil {
		t.Error("AddPage of 4095 bytes: no error")
	}
	if m.AddPage(0x800, MakeSecinfoFlags(PageTypeREG, SecinfoR), make([]byte, 4096), true) == nil {
		t.Error("AddPage at 0x800: no error")
	}
	// Rejected calls must not have touched the stream.
	if got, want := m.Sum(), NewMeasurement(0x4000, 1).Sum(); got != want {
		t.Errorf("after rejected calls: %x, want the ECREATE-only hash %x", got, want)
	}
}

func TestAddPageAllocs(t *testing.T) {
	m := NewMeasurement(1<<26, 1)
	page := make([]byte, PageSize)
	flags := MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoW)
	n := testing.AllocsPerRun(100, func() {
		if err := m.AddPage(0x1000, flags, page, true); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("AddPage allocates %v times per page, want 0", n)
	}
}

func BenchmarkAddPage(b *testing.B) {
	m := NewMeasurement(1<<26, 1)
	page := make([]byte, PageSize)
	flags := MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoW)
	b.SetBytes(PageSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = m.AddPage(uint64(i%16384)*PageSize, flags, page, true)
	}
}
