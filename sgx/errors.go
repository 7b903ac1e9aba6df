package sgx

import (
	"errors"
	"fmt"
)

// ErrorCode is an SGX instruction's error or information code, returned in
// EAX with RFLAGS.ZF = 1 (SDM Vol. 3D, "Error or Information Codes for
// Intel SGX Instructions"). An ErrorCode is also an error, so that
// errors.Is(err, ErrInvalidMeasurement) works on an *EINITError.
type ErrorCode uint32

// SGX error codes. SGX_EPC_PAGE_CONFLICT (7) was SGX_LOCKFAIL in earlier
// editions of the SDM; SGX_INSUFFICIENT_ENTROPY and SGX_NO_UPDATE belong to
// ENCLS[EUPDATESVN].
const (
	ErrInvalidSigStruct       ErrorCode = 1
	ErrInvalidAttribute       ErrorCode = 2
	ErrBlkState               ErrorCode = 3
	ErrInvalidMeasurement     ErrorCode = 4
	ErrNotBlockable           ErrorCode = 5
	ErrPgInvld                ErrorCode = 6
	ErrEPCPageConflict        ErrorCode = 7
	ErrInvalidSignature       ErrorCode = 8
	ErrMACCompareFail         ErrorCode = 9
	ErrPageNotBlocked         ErrorCode = 10
	ErrNotTracked             ErrorCode = 11
	ErrVASlotOccupied         ErrorCode = 12
	ErrChildPresent           ErrorCode = 13
	ErrEnclaveAct             ErrorCode = 14
	ErrEntryEpochLocked       ErrorCode = 15
	ErrInvalidEINITToken      ErrorCode = 16
	ErrPrevTrkIncmpl          ErrorCode = 17
	ErrPgIsSECS               ErrorCode = 18
	ErrPageAttributesMismatch ErrorCode = 19
	ErrPageNotModifiable      ErrorCode = 20
	ErrPageNotDebuggable      ErrorCode = 21
	ErrInvalidCounter         ErrorCode = 25
	ErrPgNonEPC               ErrorCode = 26
	ErrTrackNotRequired       ErrorCode = 27
	ErrInsufficientEntropy    ErrorCode = 29
	ErrNoUpdate               ErrorCode = 31
	ErrInvalidCPUSVN          ErrorCode = 32
	ErrInvalidISVSVN          ErrorCode = 64
	ErrUnmaskedEvent          ErrorCode = 128
	ErrInvalidKeyname         ErrorCode = 256
)

var errorCodeNames = []intName{
	{1, "SGX_INVALID_SIG_STRUCT"}, {2, "SGX_INVALID_ATTRIBUTE"}, {3, "SGX_BLKSTATE"},
	{4, "SGX_INVALID_MEASUREMENT"}, {5, "SGX_NOTBLOCKABLE"}, {6, "SGX_PG_INVLD"},
	{7, "SGX_EPC_PAGE_CONFLICT"}, {8, "SGX_INVALID_SIGNATURE"}, {9, "SGX_MAC_COMPARE_FAIL"},
	{10, "SGX_PAGE_NOT_BLOCKED"}, {11, "SGX_NOT_TRACKED"}, {12, "SGX_VA_SLOT_OCCUPIED"},
	{13, "SGX_CHILD_PRESENT"}, {14, "SGX_ENCLAVE_ACT"}, {15, "SGX_ENTRYEPOCH_LOCKED"},
	{16, "SGX_INVALID_EINITTOKEN"}, {17, "SGX_PREV_TRK_INCMPL"}, {18, "SGX_PG_IS_SECS"},
	{19, "SGX_PAGE_ATTRIBUTES_MISMATCH"}, {20, "SGX_PAGE_NOT_MODIFIABLE"},
	{21, "SGX_PAGE_NOT_DEBUGGABLE"}, {25, "SGX_INVALID_COUNTER"}, {26, "SGX_PG_NONEPC"},
	{27, "SGX_TRACK_NOT_REQUIRED"}, {29, "SGX_INSUFFICIENT_ENTROPY"}, {31, "SGX_NO_UPDATE"},
	{32, "SGX_INVALID_CPUSVN"}, {64, "SGX_INVALID_ISVSVN"}, {128, "SGX_UNMASKED_EVENT"},
	{256, "SGX_INVALID_KEYNAME"},
}

// String returns the SDM name, "SGX_INVALID_MEASUREMENT", "SGX_SUCCESS" for
// 0, or "ErrorCode(N)".
func (c ErrorCode) String() string {
	if c == 0 {
		return "SGX_SUCCESS"
	}
	return stringName(uint64(c), errorCodeNames, "ErrorCode")
}

// Error returns the same text as String.
func (c ErrorCode) Error() string { return c.String() }

// EINITError is an EINIT failure (or that of another leaf that reports an
// error code): the code EAX would hold and, in words, which check failed.
type EINITError struct {
	Code  ErrorCode
	Check string
}

// Error renders "EINIT: SGX_INVALID_MEASUREMENT: ENCLAVEHASH … != MRENCLAVE …".
func (e *EINITError) Error() string {
	if e.Check == "" {
		return "EINIT: " + e.Code.String()
	}
	return "EINIT: " + e.Code.String() + ": " + e.Check
}

// Is reports whether target is e's ErrorCode.
func (e *EINITError) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// Sentinels wrapped by DecodeError and RuleError, for errors.Is.
var (
	// ErrSize: the input has the wrong length for the structure.
	ErrSize = errors.New("wrong size")
	// ErrReserved: a reserved field or bit is not zero.
	ErrReserved = errors.New("reserved field not zero")
	// ErrConstant: a field with an architectural constant value (SIGSTRUCT
	// HEADER, HEADER2, VENDOR, EXPONENT) holds something else.
	ErrConstant = errors.New("field does not hold its architectural value")
	// ErrInvalid: a field breaks an architectural rule (alignment, range,
	// combination), as found by a Validate method.
	ErrInvalid = errors.New("invalid field")
)

// DecodeError reports bytes that do not decode as the named structure: the
// field, its byte offset in the input, the offending value (the first bad
// byte, or the input length for ErrSize) and why.
type DecodeError struct {
	Struct string // "SIGSTRUCT"
	Field  string // "HEADER"; empty for a length error
	Off    int    // offset of the first bad byte, or the input length
	Value  uint64
	Msg    string
	Err    error // ErrSize, ErrReserved or ErrConstant
}

// Error renders "decode SIGSTRUCT: HEADER at offset 4 = 0x1: not the architectural header".
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("decode %s: %d bytes: %s", e.Struct, e.Off, e.Msg)
	}
	return fmt.Sprintf("decode %s: %s at offset %d = %#x: %s", e.Struct, e.Field, e.Off, e.Value, e.Msg)
}

// Unwrap returns the sentinel classifying the error.
func (e *DecodeError) Unwrap() error { return e.Err }

// RuleError reports a decoded structure that breaks one of the rules an
// instruction checks (ECREATE for the SECS, EADD for SECINFO, EENTER for the
// TCS).
type RuleError struct {
	Struct string // "SECS"
	Field  string // "SIZE"
	Value  uint64
	Rule   string // "not a power of two >= 8192"
}

// Error renders "SECS.SIZE = 0x3000: not a power of two >= 8192".
func (e *RuleError) Error() string {
	return fmt.Sprintf("%s.%s = %#x: %s", e.Struct, e.Field, e.Value, e.Rule)
}

// Unwrap returns ErrInvalid.
func (e *RuleError) Unwrap() error { return ErrInvalid }

// sizeError is the DecodeError for an input of the wrong length.
func sizeError(st string, got int, want string) error {
	return &DecodeError{Struct: st, Off: got, Value: uint64(got), Msg: "need " + want + " bytes", Err: ErrSize}
}

// checkZero returns a DecodeError naming field if b[from:to] has a non-zero
// byte. The caller guarantees the bounds.
func checkZero(st, field string, b []byte, from, to int) error {
	for i := from; i < to; i++ {
		if b[i] != 0 {
			return &DecodeError{Struct: st, Field: field, Off: i, Value: uint64(b[i]), Msg: "reserved, must be zero", Err: ErrReserved}
		}
	}
	return nil
}
