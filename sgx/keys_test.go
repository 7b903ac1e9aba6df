package sgx

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func testHierarchy(t testing.TB, fill byte) *KeyHierarchy {
	t.Helper()
	h, err := NewKeyHierarchy(bytes.Repeat([]byte{fill}, CPUSecretSize))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testIdentity() Identity {
	id := Identity{MiscSelect: MiscEXINFO, Attributes: Attributes{Flags: AttrInit | AttrDebug | AttrMode64Bit, XFRM: 3},
		ISVProdID: 7, ISVSVN: 3}
	id.MRENCLAVE[0], id.MRSIGNER[0] = 0xe1, 0x51
	return id
}

// TestLayoutOffsets puts a marker in each field and checks where it lands
// (SDM Vol. 3D tables "Layout of REPORT", "TARGETINFO", "KEYREQUEST").
func TestLayoutOffsets(t *testing.T) {
	r := Report{MiscSelect: 0x11, ISVProdID: 0x2222, ISVSVN: 0x3333, ConfigSVN: 0x4444,
		Attributes: Attributes{Flags: 0x55, XFRM: 0x66}}
	r.CPUSVN[0], r.ISVExtProdID[0], r.MRENCLAVE[0], r.MRSIGNER[0] = 0xc0, 0xe0, 0xa0, 0xb0
	r.ConfigID[0], r.ISVFamilyID[0], r.ReportData[63], r.KeyID[0], r.MAC[15] = 0xc1, 0xf0, 0xd0, 0x1d, 0x3a
	rb, _ := r.MarshalBinary()
	ti := TargetInfo{Attributes: Attributes{Flags: 0x77, XFRM: 0x88}, ConfigSVN: 0x9999, MiscSelect: 0xaa}
	ti.MRENCLAVE[0], ti.ConfigID[0] = 0xbb, 0xcc
	tb, _ := ti.MarshalBinary()
	kr := KeyRequest{KeyName: 0x0102, KeyPolicy: 0x0304, ISVSVN: 0x0506, MiscMask: 0x0708, ConfigSVN: 0x090a,
		AttributeMask: Attributes{Flags: 0x0b, XFRM: 0x0c}}
	kr.CPUSVN[0], kr.KeyID[0] = 0x0d, 0x0e
	kb, _ := kr.MarshalBinary()
	for _, c := range []struct {
		name string
		b    []byte
		off  int
		want byte
	}{
		{"REPORT.CPUSVN", rb, 0, 0xc0}, {"REPORT.MISCSELECT", rb, 16, 0x11}, {"REPORT.ISVEXTPRODID", rb, 32, 0xe0},
		{"REPORT.ATTRIBUTES", rb, 48, 0x55}, {"REPORT.XFRM", rb, 56, 0x66}, {"REPORT.MRENCLAVE", rb, 64, 0xa0},
		{"REPORT.MRSIGNER", rb, 128, 0xb0}, {"REPORT.CONFIGID", rb, 192, 0xc1}, {"REPORT.ISVPRODID", rb, 256, 0x22},
		{"REPORT.ISVSVN", rb, 258, 0x33}, {"REPORT.CONFIGSVN", rb, 260, 0x44}, {"REPORT.ISVFAMILYID", rb, 304, 0xf0},
		{"REPORT.REPORTDATA", rb, 383, 0xd0}, {"REPORT.KEYID", rb, 384, 0x1d}, {"REPORT.MAC", rb, 431, 0x3a},
		{"TARGETINFO.MEASUREMENT", tb, 0, 0xbb}, {"TARGETINFO.ATTRIBUTES", tb, 32, 0x77}, {"TARGETINFO.XFRM", tb, 40, 0x88},
		{"TARGETINFO.CONFIGSVN", tb, 50, 0x99}, {"TARGETINFO.MISCSELECT", tb, 52, 0xaa}, {"TARGETINFO.CONFIGID", tb, 64, 0xcc},
		{"KEYREQUEST.KEYNAME", kb, 0, 0x02}, {"KEYREQUEST.KEYPOLICY", kb, 2, 0x04}, {"KEYREQUEST.ISVSVN", kb, 4, 0x06},
		{"KEYREQUEST.CPUSVN", kb, 8, 0x0d}, {"KEYREQUEST.ATTRIBUTEMASK", kb, 24, 0x0b}, {"KEYREQUEST.XFRM", kb, 32, 0x0c},
		{"KEYREQUEST.KEYID", kb, 40, 0x0e}, {"KEYREQUEST.MISCMASK", kb, 72, 0x08}, {"KEYREQUEST.CONFIGSVN", kb, 76, 0x0a},
	} {
		if c.b[c.off] != c.want {
			t.Errorf("%s: byte %d = %#x, want %#x", c.name, c.off, c.b[c.off], c.want)
		}
	}
	if len(rb) != 432 || len(tb) != 512 || len(kb) != 512 || len(r.Body()) != 384 {
		t.Errorf("sizes %d %d %d body %d", len(rb), len(tb), len(kb), len(r.Body()))
	}
	var r2 Report
	var t2 TargetInfo
	var k2 KeyRequest
	if r2.UnmarshalBinary(rb) != nil || r2 != r || t2.UnmarshalBinary(tb) != nil || t2 != ti || k2.UnmarshalBinary(kb) != nil || k2 != kr {
		t.Error("round trip differs")
	}
}

func TestKeyStructDecodeErrors(t *testing.T) {
	kb, _ := (&KeyRequest{}).MarshalBinary()
	for _, c := range []struct {
		name string
		dec  func([]byte) error
		b    []byte
		off  int
		want error
	}{
		{"KEYREQUEST short", new(KeyRequest).UnmarshalBinary, kb[:511], 511, ErrSize},
		{"KEYREQUEST byte 6", new(KeyRequest).UnmarshalBinary, with(kb, 6), 6, ErrReserved},
		{"KEYREQUEST byte 78", new(KeyRequest).UnmarshalBinary, with(kb, 78), 78, ErrReserved},
		{"KEYREQUEST byte 511", new(KeyRequest).UnmarshalBinary, with(kb, 511), 511, ErrReserved},
		{"REPORT long", new(Report).UnmarshalBinary, make([]byte, 433), 433, ErrSize},
		{"REPORT byte 20", new(Report).UnmarshalBinary, with(make([]byte, 432), 20), 20, ErrReserved},
		{"REPORT byte 303", new(Report).UnmarshalBinary, with(make([]byte, 432), 303), 303, ErrReserved},
		{"TARGETINFO short", new(TargetInfo).UnmarshalBinary, make([]byte, 64), 64, ErrSize},
	} {
		err := c.dec(c.b)
		var de *DecodeError
		if !errors.Is(err, c.want) || !errors.As(err, &de) || de.Off != c.off {
			t.Errorf("%s: %v, want %v at offset %d", c.name, err, c.want, c.off)
		}
	}
	// EREPORT ignores TARGETINFO's reserved bytes.
	var ti TargetInfo
	if err := ti.UnmarshalBinary(with(make([]byte, 512), 200)); err != nil {
		t.Errorf("TARGETINFO with reserved byte 200 set: %v", err)
	}
}

func with(b []byte, off int) []byte {
	c := bytes.Clone(b)
	c[off] = 1
	return c
}

func TestKeyNames(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{KeySeal.String(), "SEAL_KEY"}, {KeyReport.String(), "REPORT_KEY"}, {KeyEINITToken.String(), "EINITTOKEN_KEY"},
		{KeyProvision.String(), "PROVISION_KEY"}, {KeyProvisionSeal.String(), "PROVISION_SEAL_KEY"}, {KeyName(5).String(), "KeyName(5)"},
		{(PolicyMRENCLAVE | PolicyMRSIGNER).String(), "MRENCLAVE+MRSIGNER"}, {KeyPolicy(0).String(), "0"},
		{(PolicyNoISVProdID | PolicyConfigID | PolicyISVFamilyID | PolicyISVExtProdID | 0x40).String(), "NOISVPRODID+CONFIGID+ISVFAMILYID+ISVEXTPRODID+0x40"},
		{ErrInvalidKeyname.String(), "SGX_INVALID_KEYNAME"}, {ErrInvalidCPUSVN.String(), "SGX_INVALID_CPUSVN"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestDerivationVector pins the emulation's derivation: a fixed secret and
// request give this exact key (computed once with this code; it guards
// the documented layout against silent change).
func TestDerivationVector(t *testing.T) {
	h := testHierarchy(t, 0x5a)
	id := testIdentity()
	k, err := h.GetKey(&id, &KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyMRENCLAVE, ISVSVN: 3, MiscMask: ^uint32(0),
		AttributeMask: Attributes{Flags: ^AttributeFlags(0), XFRM: 3}})
	if err != nil {
		t.Fatal(err)
	}
	// The same key by hand, from the documented layout.
	d := make([]byte, DerivationDataSize)
	copy(d, "SGXDBG-EGETKEY\x00\x01")
	d[16], d[18], d[20], d[22] = 4, 1, 7, 3
	d[28] = 1                                       // MISCSELECT & MISCMASK
	copy(d[96:], []byte{7, 0, 0, 0, 0, 0, 0, 0, 3}) // ATTRIBUTES & (mask | INIT | DEBUG)
	copy(d[112:], bytes.Repeat([]byte{0xff}, 8))
	d[120] = 3
	d[128] = 0xe1
	copy(d[224:], bytes.Repeat([]byte{0x5a}, 16))
	want, _ := CMAC(bytes.Repeat([]byte{0x5a}, 16), d)
	if k != want {
		t.Errorf("seal key %x, want %x (derivation data %s)", k, want, hex.EncodeToString(d))
	}
}

func TestGetKeyPolicies(t *testing.T) {
	h := testHierarchy(t, 1)
	id := testIdentity()
	other := id
	other.MRENCLAVE[0] = 0xe2 // another enclave of the same signer
	get := func(id *Identity, req KeyRequest) [16]byte {
		t.Helper()
		k, err := h.GetKey(id, &req)
		if err != nil {
			t.Fatalf("GetKey(%v %v): %v", req.KeyName, req.KeyPolicy, err)
		}
		return k
	}
	enc := KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyMRENCLAVE}
	sig := KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyMRSIGNER}
	first := get(&id, enc)
	if again := get(&id, enc); again != first {
		t.Errorf("seal key not stable: %x then %x", first, again)
	}
	if get(&id, enc) == get(&id, sig) {
		t.Error("MRENCLAVE and MRSIGNER policy give the same key")
	}
	if get(&id, sig) != get(&other, sig) {
		t.Error("MRSIGNER key differs between enclaves of one signer")
	}
	if get(&id, enc) == get(&other, enc) {
		t.Error("MRENCLAVE key equal for two enclaves")
	}
	if k := get(&id, enc); k == (func() [16]byte { h2 := testHierarchy(t, 2); k, _ := h2.GetKey(&id, &enc); return k }()) {
		t.Error("two CPU secrets give the same key")
	}
	lower := enc
	lower.ISVSVN = 2
	if get(&id, lower) == get(&id, enc) {
		t.Error("ISVSVN is not an input")
	}
	kid := enc
	kid.KeyID[5] = 1
	if get(&id, kid) == get(&id, enc) {
		t.Error("KEYID is not an input")
	}
	// ATTRIBUTEMASK: DEBUG is always in, MODE64BIT only when masked in.
	m64 := enc
	m64.AttributeMask.Flags = AttrMode64Bit
	dbg := enc
	dbg.AttributeMask.Flags = AttrDebug
	if get(&id, dbg) == get(&id, m64) {
		t.Error("ATTRIBUTEMASK MODE64BIT is not an input")
	}
	// PROVISION_KEY ignores KEYPOLICY, KEYID, OWNEREPOCH and the seal
	// fuses; PROVISION_SEAL_KEY takes KEYPOLICY's inputs and the fuses.
	prov := id
	prov.Attributes.Flags |= AttrProvisionKey | AttrKSS
	prov.ISVProdID = 9
	pk := KeyRequest{KeyName: KeyProvision}
	pkPolicy := KeyRequest{KeyName: KeyProvision, KeyPolicy: PolicyMRENCLAVE | PolicyNoISVProdID}
	pkKeyID := KeyRequest{KeyName: KeyProvision}
	pkKeyID.KeyID[0] = 1
	if get(&prov, pk) != get(&prov, pkPolicy) || get(&prov, pk) != get(&prov, pkKeyID) {
		t.Error("PROVISION_KEY depends on KEYPOLICY or KEYID")
	}
	epoch := *h
	epoch.OwnerEpoch[0] = 1
	epoch.SealFuses[0] ^= 1
	if k, _ := epoch.GetKey(&prov, &pk); k != get(&prov, pk) {
		t.Error("PROVISION_KEY depends on OWNEREPOCH or the seal fuses")
	}
	ps := KeyRequest{KeyName: KeyProvisionSeal}
	if k, _ := epoch.GetKey(&prov, &ps); k == get(&prov, ps) {
		t.Error("PROVISION_SEAL_KEY does not depend on the seal fuses")
	}
	psNoProd := KeyRequest{KeyName: KeyProvisionSeal, KeyPolicy: PolicyNoISVProdID}
	if get(&prov, ps) == get(&prov, psNoProd) {
		t.Error("PROVISION_SEAL_KEY ignores NOISVPRODID")
	}
	other9 := prov
	other9.ISVProdID = 10
	if get(&prov, psNoProd) != get(&other9, psNoProd) {
		t.Error("PROVISION_SEAL_KEY with NOISVPRODID depends on ISVPRODID")
	}
	// MRSIGNER keys of two products of one signer: equal only with NOISVPRODID.
	sigNoProd := KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyMRSIGNER | PolicyNoISVProdID}
	if get(&prov, sigNoProd) != get(&other9, sigNoProd) || get(&prov, sig) == get(&other9, sig) {
		t.Error("NOISVPRODID does not remove ISVPRODID from a seal key")
	}
	fam := prov
	fam.ISVFamilyID[0] = 1
	famReq := KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyMRSIGNER | PolicyISVFamilyID}
	if get(&prov, famReq) == get(&fam, famReq) || get(&prov, sig) != get(&fam, sig) {
		t.Error("ISVFAMILYID is an input only with its policy bit")
	}
	cfg := prov
	cfg.ConfigSVN, cfg.ConfigID[0] = 5, 1
	cfgReq := KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyConfigID, ConfigSVN: 4}
	cfgReq5 := cfgReq
	cfgReq5.ConfigSVN = 5
	if get(&cfg, cfgReq) == get(&cfg, cfgReq5) || get(&cfg, sig) != get(&prov, sig) {
		t.Error("CONFIGID/CONFIGSVN are inputs only with the CONFIGID policy")
	}

	// The REPORT key ignores the policy and the SVNs.
	rk := KeyRequest{KeyName: KeyReport, KeyPolicy: PolicyMRSIGNER}
	rk2 := KeyRequest{KeyName: KeyReport, ISVSVN: 0}
	if get(&id, rk) != get(&id, rk2) {
		t.Error("REPORT key depends on KEYPOLICY")
	}
}

func TestGetKeyErrors(t *testing.T) {
	h := testHierarchy(t, 1)
	id := testIdentity()
	prov := id
	prov.Attributes.Flags |= AttrProvisionKey | AttrEINITTokenKey
	beyond := EmulatedCPUSVN
	beyond[1]++
	for _, c := range []struct {
		name string
		id   Identity
		req  KeyRequest
		code ErrorCode // 0: a #GP RuleError
		ok   bool
	}{
		{"PROVISION without PROVISIONKEY", id, KeyRequest{KeyName: KeyProvision}, ErrInvalidAttribute, false},
		{"PROVISION_SEAL without PROVISIONKEY", id, KeyRequest{KeyName: KeyProvisionSeal}, ErrInvalidAttribute, false},
		{"EINITTOKEN without EINITTOKENKEY", id, KeyRequest{KeyName: KeyEINITToken}, ErrInvalidAttribute, false},
		{"PROVISION with PROVISIONKEY", prov, KeyRequest{KeyName: KeyProvision}, 0, true},
		{"PROVISION_SEAL with PROVISIONKEY", prov, KeyRequest{KeyName: KeyProvisionSeal}, 0, true},
		{"EINITTOKEN with EINITTOKENKEY", prov, KeyRequest{KeyName: KeyEINITToken}, 0, true},
		{"SEAL ISVSVN above", id, KeyRequest{KeyName: KeySeal, ISVSVN: 4}, ErrInvalidISVSVN, false},
		{"SEAL ISVSVN equal", id, KeyRequest{KeyName: KeySeal, ISVSVN: 3}, 0, true},
		{"SEAL CPUSVN beyond", id, KeyRequest{KeyName: KeySeal, CPUSVN: beyond}, ErrInvalidCPUSVN, false},
		{"SEAL CPUSVN current", id, KeyRequest{KeyName: KeySeal, CPUSVN: EmulatedCPUSVN}, 0, true},
		{"PROVISION CPUSVN beyond", prov, KeyRequest{KeyName: KeyProvision, CPUSVN: beyond}, ErrInvalidCPUSVN, false},
		{"KEYNAME 5", id, KeyRequest{KeyName: 5}, ErrInvalidKeyname, false},
		{"KEYNAME 0xffff", id, KeyRequest{KeyName: 0xffff}, ErrInvalidKeyname, false},
		{"KEYPOLICY reserved bit", id, KeyRequest{KeyName: KeySeal, KeyPolicy: 0x40}, 0, false},
		{"KEYPOLICY CONFIGID without KSS", id, KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyConfigID}, 0, false},
		{"CONFIGSVN without KSS", id, KeyRequest{KeyName: KeySeal, ConfigSVN: 1}, 0, false},
	} {
		_, err := h.GetKey(&c.id, &c.req)
		var ke *KeyError
		var re *RuleError
		switch {
		case c.ok:
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		case c.code != 0:
			if !errors.As(err, &ke) || !errors.Is(err, c.code) {
				t.Errorf("%s: %v, want %v", c.name, err, c.code)
			}
		default:
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want a #GP RuleError", c.name, err)
			}
		}
	}
	kss := id
	kss.Attributes.Flags |= AttrKSS
	kss.ConfigSVN = 2
	if _, err := h.GetKey(&kss, &KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyConfigID, ConfigSVN: 3}); !errors.Is(err, ErrInvalidISVSVN) {
		t.Errorf("CONFIGSVN above the enclave's: %v, want SGX_INVALID_ISVSVN", err)
	}
	if _, err := h.GetKey(&kss, &KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyConfigID | PolicyISVFamilyID, ConfigSVN: 2}); err != nil {
		t.Errorf("KSS policy with KSS: %v", err)
	}
	if _, err := NewKeyHierarchy(make([]byte, 16)); err == nil {
		t.Error("NewKeyHierarchy accepts 16 bytes")
	}
}

func TestReport(t *testing.T) {
	h := testHierarchy(t, 3)
	a, b := testIdentity(), testIdentity()
	b.MRENCLAVE[0] = 0xb0
	var data [64]byte
	data[0], data[63] = 'A', 'Z'
	self := h.Report(&a, &TargetInfo{}, data)
	tiA := TargetInfoOf(&self)
	tiB := TargetInfo{MRENCLAVE: b.MRENCLAVE, Attributes: b.Attributes, MiscSelect: b.MiscSelect}
	r := h.Report(&a, &tiB, data)
	if r.MRENCLAVE != a.MRENCLAVE || r.MRSIGNER != a.MRSIGNER || r.ISVProdID != 7 || r.ISVSVN != 3 ||
		r.Attributes != a.Attributes || r.MiscSelect != MiscEXINFO || r.CPUSVN != EmulatedCPUSVN ||
		r.ReportData != data || r.KeyID != h.ReportKeyID {
		t.Errorf("report fields %+v", r)
	}
	if !h.VerifyReport(&r, &tiB) {
		t.Error("B cannot verify A's report for B")
	}
	if h.VerifyReport(&r, &tiA) {
		t.Error("A verifies a report made for B")
	}
	// B's EGETKEY(REPORT) with the report's KEYID gives the MAC key.
	k, err := h.GetKey(&b, &KeyRequest{KeyName: KeyReport, KeyID: r.KeyID})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := VerifyCMAC(k[:], r.Body(), r.MAC); !ok {
		t.Error("EGETKEY(REPORT) in B does not verify the MAC")
	}
	bad := r
	bad.ReportData[0] ^= 1
	if h.VerifyReport(&bad, &tiB) {
		t.Error("a modified report verifies")
	}
	// KEYID is outside the MAC but selects the key.
	bad = r
	bad.KeyID[0] ^= 1
	if h.VerifyReport(&bad, &tiB) {
		t.Error("a report with another KEYID verifies")
	}
	if h2 := testHierarchy(t, 4); h2.VerifyReport(&r, &tiB) {
		t.Error("a report verifies on another CPU")
	}
}
