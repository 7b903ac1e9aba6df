package sgx

import "encoding/binary"

// Sizes and alignments of the EREPORT operands (SDM Vol. 3D, "REPORT",
// "REPORT TARGET INFO"; EREPORT operation).
const (
	ReportSize         = 432
	ReportBodySize     = 384 // the bytes the MAC covers: everything before KEYID
	ReportAlign        = 512
	TargetInfoSize     = 512
	TargetInfoAlign    = 512
	ReportDataSize     = 64
	ReportDataAlign    = 128
	reportCPUSVN       = 0
	reportMiscSelect   = 16
	reportISVExtProdID = 32
	reportAttributes   = 48
	reportMRENCLAVE    = 64
	reportMRSIGNER     = 128
	reportConfigID     = 192
	reportISVProdID    = 256
	reportISVSVN       = 258
	reportConfigSVN    = 260
	reportISVFamilyID  = 304
	reportData         = 320
	reportKeyID        = 384
	reportMAC          = 416
)

// reportReserved lists REPORT's reserved ranges; EREPORT writes them as
// zeros. Byte 20 is CET_ATTRIBUTES on processors with CET in enclaves,
// which this package does not model.
var reportReserved = [...]struct{ from, to int }{{20, 32}, {96, 128}, {160, 192}, {262, 304}}

// Report is the REPORT structure EREPORT writes (SDM Vol. 3D "Layout of
// REPORT"): the identity of the enclave that made it, 64 bytes of its
// data, and an AES-CMAC over the first 384 bytes under the target
// enclave's REPORT key.
type Report struct {
	CPUSVN       [16]byte   // CPUSVN @0
	MiscSelect   MiscSelect // MISCSELECT @16
	ISVExtProdID [16]byte   // ISVEXTPRODID @32
	Attributes   Attributes // ATTRIBUTES @48
	MRENCLAVE    [32]byte   // @64
	MRSIGNER     [32]byte   // @128
	ConfigID     [64]byte   // CONFIGID @192
	ISVProdID    uint16     // ISVPRODID @256
	ISVSVN       uint16     // ISVSVN @258
	ConfigSVN    uint16     // CONFIGSVN @260
	ISVFamilyID  [16]byte   // ISVFAMILYID @304
	ReportData   [64]byte   // REPORTDATA @320
	KeyID        [32]byte   // KEYID @384: not MACed
	MAC          [16]byte   // MAC @416
}

// MarshalBinary returns the 432 wire bytes, reserved bytes zero.
func (r *Report) MarshalBinary() ([]byte, error) {
	b := make([]byte, ReportSize)
	le := binary.LittleEndian
	copy(b[reportCPUSVN:], r.CPUSVN[:])
	le.PutUint32(b[reportMiscSelect:], uint32(r.MiscSelect))
	copy(b[reportISVExtProdID:], r.ISVExtProdID[:])
	r.Attributes.put(b[reportAttributes:])
	copy(b[reportMRENCLAVE:], r.MRENCLAVE[:])
	copy(b[reportMRSIGNER:], r.MRSIGNER[:])
	copy(b[reportConfigID:], r.ConfigID[:])
	le.PutUint16(b[reportISVProdID:], r.ISVProdID)
	le.PutUint16(b[reportISVSVN:], r.ISVSVN)
	le.PutUint16(b[reportConfigSVN:], r.ConfigSVN)
	copy(b[reportISVFamilyID:], r.ISVFamilyID[:])
	copy(b[reportData:], r.ReportData[:])
	copy(b[reportKeyID:], r.KeyID[:])
	copy(b[reportMAC:], r.MAC[:])
	return b, nil
}

// Body returns the 384 bytes the MAC covers (CPUSVN through REPORTDATA).
func (r *Report) Body() []byte {
	b, _ := r.MarshalBinary()
	return b[:ReportBodySize]
}

// UnmarshalBinary decodes exactly 432 bytes whose reserved bytes are zero.
func (r *Report) UnmarshalBinary(b []byte) error {
	if len(b) != ReportSize {
		return sizeError("REPORT", len(b), "432")
	}
	for _, rr := range reportReserved {
		if err := checkZero("REPORT", "RESERVED", b, rr.from, rr.to); err != nil {
			return err
		}
	}
	le := binary.LittleEndian
	*r = Report{
		MiscSelect: MiscSelect(le.Uint32(b[reportMiscSelect:])),
		Attributes: getAttributes(b[reportAttributes:]),
		ISVProdID:  le.Uint16(b[reportISVProdID:]),
		ISVSVN:     le.Uint16(b[reportISVSVN:]),
		ConfigSVN:  le.Uint16(b[reportConfigSVN:]),
	}
	copy(r.CPUSVN[:], b[reportCPUSVN:])
	copy(r.ISVExtProdID[:], b[reportISVExtProdID:])
	copy(r.MRENCLAVE[:], b[reportMRENCLAVE:])
	copy(r.MRSIGNER[:], b[reportMRSIGNER:])
	copy(r.ConfigID[:], b[reportConfigID:])
	copy(r.ISVFamilyID[:], b[reportISVFamilyID:])
	copy(r.ReportData[:], b[reportData:])
	copy(r.KeyID[:], b[reportKeyID:])
	copy(r.MAC[:], b[reportMAC:])
	return nil
}

// TargetInfo is TARGETINFO, EREPORT's description of the enclave that is
// to verify the REPORT (SDM Vol. 3D "Layout of TARGETINFO").
type TargetInfo struct {
	MRENCLAVE  [32]byte   // MEASUREMENT @0
	Attributes Attributes // ATTRIBUTES @32
	ConfigSVN  uint16     // CONFIGSVN @50
	MiscSelect MiscSelect // MISCSELECT @52
	ConfigID   [64]byte   // CONFIGID @64
}

// TARGETINFO field offsets.
const (
	tiMeasurement = 0
	tiAttributes  = 32
	tiConfigSVN   = 50
	tiMiscSelect  = 52
	tiConfigID    = 64
)

// MarshalBinary returns the 512 wire bytes, reserved bytes zero.
func (t *TargetInfo) MarshalBinary() ([]byte, error) {
	b := make([]byte, TargetInfoSize)
	copy(b[tiMeasurement:], t.MRENCLAVE[:])
	t.Attributes.put(b[tiAttributes:])
	binary.LittleEndian.PutUint16(b[tiConfigSVN:], t.ConfigSVN)
	binary.LittleEndian.PutUint32(b[tiMiscSelect:], uint32(t.MiscSelect))
	copy(b[tiConfigID:], t.ConfigID[:])
	return b, nil
}

// UnmarshalBinary decodes exactly 512 bytes. The reserved bytes (48, 49,
// 56..63, 128..511; byte 48 is CET_ATTRIBUTES with CET) are ignored, as
// EREPORT ignores them: its operation section reads only the fields above.
func (t *TargetInfo) UnmarshalBinary(b []byte) error {
	if len(b) != TargetInfoSize {
		return sizeError("TARGETINFO", len(b), "512")
	}
	*t = TargetInfo{
		Attributes: getAttributes(b[tiAttributes:]),
		ConfigSVN:  binary.LittleEndian.Uint16(b[tiConfigSVN:]),
		MiscSelect: MiscSelect(binary.LittleEndian.Uint32(b[tiMiscSelect:])),
	}
	copy(t.MRENCLAVE[:], b[tiMeasurement:])
	copy(t.ConfigID[:], b[tiConfigID:])
	return nil
}

// TargetInfoOf returns the TARGETINFO naming the enclave a REPORT
// describes, as enclaves build it from their own REPORT to let others
// target them.
func TargetInfoOf(r *Report) TargetInfo {
	return TargetInfo{MRENCLAVE: r.MRENCLAVE, Attributes: r.Attributes, ConfigSVN: r.ConfigSVN,
		MiscSelect: r.MiscSelect, ConfigID: r.ConfigID}
}
