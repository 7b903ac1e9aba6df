package sgx

import (
	"errors"
	"fmt"
)

// CheckEINIT makes EINIT's checks, in the SDM's order (EINIT operation,
// December 2023), for an enclave whose SECS is secs, whose finalized
// measurement is mrenclave, signed by sig:
//
//  1. HEADER, VENDOR, HEADER2, EXPONENT → SGX_INVALID_SIG_STRUCT
//     (reserved bytes cannot be set in a SigStruct; UnmarshalBinary and
//     CheckEINITBytes check them);
//  2. the signature and Q1/Q2 → SGX_INVALID_SIGNATURE;
//  3. ISVFAMILYID set without SECS.ATTRIBUTES.KSS → SGX_INVALID_SIG_STRUCT;
//  4. ENCLAVEHASH == mrenclave → else SGX_INVALID_MEASUREMENT;
//  5. SECS.ATTRIBUTES & ATTRIBUTEMASK == SIGSTRUCT.ATTRIBUTES & ATTRIBUTEMASK
//     (FLAGS and XFRM) → else SGX_INVALID_ATTRIBUTE;
//  6. the same for MISCSELECT under MISCMASK → SGX_INVALID_ATTRIBUTE.
//
// It models EINIT under the Linux driver with flexible launch control: the
// driver writes SHA-256(MODULUS) to IA32_SGXLEPUBKEYHASH before EINIT and
// passes an EINITTOKEN with VALID = 0, so the launch-key checks (controlled
// attribute EINITTOKENKEY, token signer) always pass and are not made. The
// CET attribute check is not made: SECS carries no CET attributes here. It
// returns nil or an *EINITError.
func CheckEINIT(secs *SECS, mrenclave [32]byte, sig *SigStruct) error {
	if de := sig.checkConstants(); de != nil {
		return &EINITError{Code: ErrInvalidSigStruct, Check: decodeCheck(de)}
	}
	if err := sig.VerifySignature(); err != nil {
		return err
	}
	if sig.ISVFamilyID != [16]byte{} && secs.Attributes.Flags&AttrKSS == 0 {
		return &EINITError{Code: ErrInvalidSigStruct, Check: "ISVFAMILYID set but SECS.ATTRIBUTES.KSS clear"}
	}
	if sig.EnclaveHash != mrenclave {
		return &EINITError{Code: ErrInvalidMeasurement,
			Check: fmt.Sprintf("ENCLAVEHASH %x != MRENCLAVE %x", sig.EnclaveHash, mrenclave)}
	}
	if got, want := secs.Attributes.And(sig.AttributeMask), sig.Attributes.And(sig.AttributeMask); got != want {
		return &EINITError{Code: ErrInvalidAttribute,
			Check: fmt.Sprintf("SECS.ATTRIBUTES & ATTRIBUTEMASK = {%v} != SIGSTRUCT.ATTRIBUTES & ATTRIBUTEMASK = {%v} (mask FLAGS %#x XFRM %#x)",
				got, want, uint64(sig.AttributeMask.Flags), sig.AttributeMask.XFRM)}
	}
	if got, want := uint32(secs.MiscSelect)&sig.MiscMask, uint32(sig.MiscSelect)&sig.MiscMask; got != want {
		return &EINITError{Code: ErrInvalidAttribute,
			Check: fmt.Sprintf("SECS.MISCSELECT & MISCMASK = %#x != SIGSTRUCT.MISCSELECT & MISCMASK = %#x (mask %#x)", got, want, sig.MiscMask)}
	}
	return nil
}

// CheckEINITBytes is CheckEINIT for a SIGSTRUCT still in its 1808 wire
// bytes, as EINIT reads it: a wrong constant or a non-zero reserved byte is
// SGX_INVALID_SIG_STRUCT. It returns the decoded SIGSTRUCT when it decodes
// (even if a later check fails), and a *DecodeError for an input of the
// wrong length, which no EINIT can see.
func CheckEINITBytes(secs *SECS, mrenclave [32]byte, b []byte) (*SigStruct, error) {
	var sig SigStruct
	if err := sig.UnmarshalBinary(b); err != nil {
		var de *DecodeError
		if errors.As(err, &de) && de.Err != ErrSize {
			return nil, &EINITError{Code: ErrInvalidSigStruct, Check: decodeCheck(de)}
		}
		return nil, err
	}
	return &sig, CheckEINIT(secs, mrenclave, &sig)
}

// decodeCheck renders a SIGSTRUCT DecodeError as an EINIT check:
// "VENDOR at offset 16 = 0x1234: must be 0 or 0x8086".
func decodeCheck(de *DecodeError) string {
	return fmt.Sprintf("%s at offset %d = %#x: %s", de.Field, de.Off, de.Value, de.Msg)
}
