package sgx

import "fmt"

// KeyError is an EGETKEY (or EREPORT) failure the instruction reports in
// EAX with ZF = 1: the error code and, in words, which check failed.
type KeyError struct {
	Code  ErrorCode
	Check string
}

// Error renders "EGETKEY: SGX_INVALID_ATTRIBUTE: PROVISION_KEY needs ATTRIBUTES.PROVISIONKEY".
func (e *KeyError) Error() string { return "EGETKEY: " + e.Code.String() + ": " + e.Check }

// Is reports whether target is e's ErrorCode.
func (e *KeyError) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// requiredSealingMask is the ATTRIBUTES bits always included in a key:
// INIT and DEBUG (REQUIRED_SEALING_MASK in EGETKEY's operation).
var requiredSealingMask = Attributes{Flags: AttrInit | AttrDebug}

// CheckKeyRequest makes EGETKEY's checks on a decoded KEYREQUEST that
// raise #GP(0) (EGETKEY operation): reserved KEYPOLICY bits, and the
// KSS-only policy bits or a non-zero CONFIGSVN in an enclave without KSS.
// It returns nil or a *RuleError. (Reserved bytes are checked when the
// KEYREQUEST is decoded.)
func CheckKeyRequest(id *Identity, req *KeyRequest) error {
	if req.KeyPolicy&^PolicyKnown != 0 {
		return &RuleError{Struct: "KEYREQUEST", Field: "KEYPOLICY", Value: uint64(req.KeyPolicy), Rule: "reserved bits set"}
	}
	if id.Attributes.Flags&AttrKSS == 0 {
		if req.KeyPolicy&PolicyKSS != 0 {
			return &RuleError{Struct: "KEYREQUEST", Field: "KEYPOLICY", Value: uint64(req.KeyPolicy), Rule: "KSS policy bits without SECS.ATTRIBUTES.KSS"}
		}
		if req.ConfigSVN != 0 {
			return &RuleError{Struct: "KEYREQUEST", Field: "CONFIGSVN", Value: uint64(req.ConfigSVN), Rule: "non-zero without SECS.ATTRIBUTES.KSS"}
		}
	}
	return nil
}

// CPUSVNBeyond reports whether a requested CPUSVN is beyond cur, with the
// emulation's component-wise rule (see EmulatedCPUSVN).
func CPUSVNBeyond(req, cur [16]byte) bool {
	for i := range req {
		if req[i] > cur[i] {
			return true
		}
	}
	return false
}

// GetKey is EGETKEY for the enclave id and the request req, after the
// operand checks: CheckKeyRequest's #GP checks (a *RuleError), then the
// checks that return an error code (a *KeyError: SGX_INVALID_ATTRIBUTE for
// PROVISION, PROVISION_SEAL or EINITTOKEN keys without the attribute that
// grants them, SGX_INVALID_CPUSVN, SGX_INVALID_ISVSVN, SGX_INVALID_KEYNAME),
// then the derivation, field by field as the SDM's operation section
// fills TMP_KEYDEPENDENCIES for each KEYNAME.
func (h *KeyHierarchy) GetKey(id *Identity, req *KeyRequest) ([KeySize]byte, error) {
	var zero [KeySize]byte
	if err := CheckKeyRequest(id, req); err != nil {
		return zero, err
	}
	attrs := req.AttributeMask
	attrs.Flags |= requiredSealingMask.Flags
	attrs = attrs.And(id.Attributes)
	misc := MiscSelect(req.MiscMask) & id.MiscSelect
	svnChecks := func() error {
		if CPUSVNBeyond(req.CPUSVN, h.CPUSVN) {
			return &KeyError{Code: ErrInvalidCPUSVN, Check: fmt.Sprintf("CPUSVN %x is beyond the processor's %x", req.CPUSVN, h.CPUSVN)}
		}
		if req.ISVSVN > id.ISVSVN {
			return &KeyError{Code: ErrInvalidISVSVN, Check: fmt.Sprintf("ISVSVN %d > the enclave's %d", req.ISVSVN, id.ISVSVN)}
		}
		return nil
	}
	needAttr := func(a AttributeFlags) error {
		if id.Attributes.Flags&a == 0 {
			return &KeyError{Code: ErrInvalidAttribute, Check: fmt.Sprintf("%v needs ATTRIBUTES.%v", req.KeyName, a)}
		}
		return nil
	}
	d := KeyDependencies{KeyName: req.KeyName}
	switch req.KeyName {
	case KeySeal:
		if err := svnChecks(); err != nil {
			return zero, err
		}
		if req.ConfigSVN > id.ConfigSVN {
			return zero, &KeyError{Code: ErrInvalidISVSVN, Check: fmt.Sprintf("CONFIGSVN %d > the enclave's %d", req.ConfigSVN, id.ConfigSVN)}
		}
		d.policyInputs(id, req)
		if req.KeyPolicy&PolicyMRENCLAVE != 0 {
			d.MRENCLAVE = id.MRENCLAVE
		}
		if req.KeyPolicy&PolicyMRSIGNER != 0 {
			d.MRSIGNER = id.MRSIGNER
		}
		d.ISVSVN = req.ISVSVN
		d.OwnerEpoch = h.OwnerEpoch
		d.Attributes, d.AttributeMask = attrs, req.AttributeMask
		d.KeyID = req.KeyID
		d.SealKeyFuses = h.SealFuses
		d.CPUSVN = req.CPUSVN
		d.MiscSelect, d.MiscMask = misc, ^req.MiscMask
	case KeyReport:
		d = h.reportKeyDeps(id.MRENCLAVE, id.Attributes, id.MiscSelect, id.ConfigID, id.ConfigSVN, req.KeyID)
	case KeyEINITToken:
		if err := needAttr(AttrEINITTokenKey); err != nil {
			return zero, err
		}
		if err := svnChecks(); err != nil {
			return zero, err
		}
		d.ISVProdID, d.ISVSVN = id.ISVProdID, req.ISVSVN
		d.OwnerEpoch = h.OwnerEpoch
		d.Attributes = attrs
		d.MRSIGNER = id.MRSIGNER
		d.KeyID = req.KeyID
		d.SealKeyFuses = h.SealFuses
		d.CPUSVN = req.CPUSVN
		d.MiscSelect = misc
	case KeyProvision, KeyProvisionSeal:
		if err := needAttr(AttrProvisionKey); err != nil {
			return zero, err
		}
		if err := svnChecks(); err != nil {
			return zero, err
		}
		// Neither depends on OWNEREPOCH (they survive an ownership
		// change) nor on KEYID. The provisioning key ignores KEYPOLICY and
		// the seal fuses; the provisioning seal key takes both, with
		// KEYPOLICY's KSS inputs as a seal key does (but never MRENCLAVE).
		d.ISVProdID, d.ISVSVN = id.ISVProdID, req.ISVSVN
		d.Attributes, d.AttributeMask = attrs, req.AttributeMask
		d.MRSIGNER = id.MRSIGNER
		d.CPUSVN = req.CPUSVN
		d.MiscSelect, d.MiscMask = misc, ^req.MiscMask
		if req.KeyName == KeyProvisionSeal {
			d.policyInputs(id, req)
			d.SealKeyFuses = h.SealFuses
		}
	default:
		return zero, &KeyError{Code: ErrInvalidKeyname, Check: fmt.Sprintf("KEYNAME %d is not a key", uint16(req.KeyName))}
	}
	return h.DeriveKey(&d), nil
}

// policyInputs sets what KEYPOLICY selects for SEAL_KEY and
// PROVISION_SEAL_KEY: ISVFAMILYID, ISVPRODID (unless NOISVPRODID), CONFIGID
// with the requested CONFIGSVN, ISVEXTPRODID, and KEYPOLICY itself.
func (d *KeyDependencies) policyInputs(id *Identity, req *KeyRequest) {
	p := req.KeyPolicy
	d.KeyPolicy = p
	d.ISVFamilyID, d.ISVExtProdID, d.ConfigID, d.ConfigSVN, d.ISVProdID = [16]byte{}, [16]byte{}, [64]byte{}, 0, 0
	if p&PolicyISVFamilyID != 0 {
		d.ISVFamilyID = id.ISVFamilyID
	}
	if p&PolicyNoISVProdID == 0 {
		d.ISVProdID = id.ISVProdID
	}
	if p&PolicyConfigID != 0 {
		d.ConfigID, d.ConfigSVN = id.ConfigID, req.ConfigSVN
	}
	if p&PolicyISVExtProdID != 0 {
		d.ISVExtProdID = id.ISVExtProdID
	}
}

// reportKeyDeps is the derivation data of the REPORT key of the enclave
// described by the arguments (EGETKEY's REPORT_KEY case, and EREPORT's
// TMP_REPORTKEYDEPENDENCIES for the target).
func (h *KeyHierarchy) reportKeyDeps(mrenclave [32]byte, attrs Attributes, misc MiscSelect, configID [64]byte, configSVN uint16, keyID [32]byte) KeyDependencies {
	return KeyDependencies{
		KeyName:      KeyReport,
		OwnerEpoch:   h.OwnerEpoch,
		Attributes:   attrs,
		MRENCLAVE:    mrenclave,
		KeyID:        keyID,
		SealKeyFuses: h.SealFuses,
		CPUSVN:       h.CPUSVN,
		MiscSelect:   misc,
		ConfigID:     configID,
		ConfigSVN:    configSVN,
	}
}

// ReportKey is the REPORT key of the enclave ti describes for KEYID keyID:
// the key that enclave's EGETKEY(REPORT_KEY) returns, and the one EREPORT
// MACs a report for it with.
func (h *KeyHierarchy) ReportKey(ti *TargetInfo, keyID [32]byte) [KeySize]byte {
	d := h.reportKeyDeps(ti.MRENCLAVE, ti.Attributes, ti.MiscSelect, ti.ConfigID, ti.ConfigSVN, keyID)
	return h.DeriveKey(&d)
}

// Report is EREPORT for the enclave id, targeted at ti, with REPORTDATA
// data: every REPORT field from the SECS, CPUSVN and KEYID from the
// processor, and the AES-CMAC of the body under the target's REPORT key.
func (h *KeyHierarchy) Report(id *Identity, ti *TargetInfo, data [ReportDataSize]byte) Report {
	r := Report{
		CPUSVN:       h.CPUSVN,
		MiscSelect:   id.MiscSelect,
		ISVExtProdID: id.ISVExtProdID,
		Attributes:   id.Attributes,
		MRENCLAVE:    id.MRENCLAVE,
		MRSIGNER:     id.MRSIGNER,
		ConfigID:     id.ConfigID,
		ISVProdID:    id.ISVProdID,
		ISVSVN:       id.ISVSVN,
		ConfigSVN:    id.ConfigSVN,
		ISVFamilyID:  id.ISVFamilyID,
		ReportData:   data,
		KeyID:        h.ReportKeyID,
	}
	key := h.ReportKey(ti, h.ReportKeyID)
	r.MAC, _ = CMAC(key[:], r.Body())
	return r
}

// VerifyReport reports whether r's MAC is right for the enclave ti
// describes, as that enclave checks it with EGETKEY(REPORT_KEY, r.KEYID).
func (h *KeyHierarchy) VerifyReport(r *Report, ti *TargetInfo) bool {
	key := h.ReportKey(ti, r.KeyID)
	ok, _ := VerifyCMAC(key[:], r.Body(), r.MAC)
	return ok
}
