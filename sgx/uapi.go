package sgx

import (
	"encoding/binary"
	"strconv"
)

// The Linux driver's ioctl numbers (arch/x86/include/uapi/asm/sgx.h),
// computed with the kernel's _IOW/_IOWR formula: direction << 30 | size <<
// 16 | magic 0xA4 << 8 | nr.
const (
	IocEnclaveCreate              = iocW | enclaveCreateSize<<iocSizeShift | sgxMagic<<8                      // nr 0: 0x4008A400
	IocEnclaveAddPages            = iocWR | enclaveAddPagesSize<<iocSizeShift | sgxMagic<<8 | 0x01            // 0xC030A401
	IocEnclaveInit                = iocW | enclaveInitSize<<iocSizeShift | sgxMagic<<8 | 0x02                 // 0x4008A402
	IocEnclaveProvision           = iocW | enclaveProvisionSize<<iocSizeShift | sgxMagic<<8 | 0x03            // 0x4008A403
	IocEnclaveRestrictPermissions = iocWR | enclaveRestrictPermissionsSize<<iocSizeShift | sgxMagic<<8 | 0x05 // 0xC028A405
	IocEnclaveModifyTypes         = iocWR | enclaveModifyTypesSize<<iocSizeShift | sgxMagic<<8 | 0x06         // 0xC028A406
	IocEnclaveRemovePages         = iocWR | enclaveRemovePagesSize<<iocSizeShift | sgxMagic<<8 | 0x07         // 0xC018A407
)

// The pieces of the ioctl number formula (include/uapi/asm-generic/ioctl.h).
const (
	sgxMagic     = 0xA4
	iocSizeShift = 16
	iocW         = 1 << 30 // _IOC_WRITE: userspace writes the argument
	iocWR        = 3 << 30 // _IOC_READ|_IOC_WRITE
)

// PageMeasure is SGX_PAGE_MEASURE, the EnclaveAddPages flag asking for the
// 16 EEXTENDs of every page.
const PageMeasure = 1

// Sizes of the ioctl argument structs and of struct sgx_enclave_run.
const (
	enclaveCreateSize              = 8
	enclaveAddPagesSize            = 48
	enclaveInitSize                = 8
	enclaveProvisionSize           = 8
	enclaveRestrictPermissionsSize = 40
	enclaveModifyTypesSize         = 40
	enclaveRemovePagesSize         = 24
	// EnclaveRunSize is the size of struct sgx_enclave_run.
	EnclaveRunSize = 256
)

// Ioctl is an ioctl request number, for naming the SGX ones.
type Ioctl uint32

var ioctlNames = []intName{
	{IocEnclaveCreate, "SGX_IOC_ENCLAVE_CREATE"},
	{IocEnclaveAddPages, "SGX_IOC_ENCLAVE_ADD_PAGES"},
	{IocEnclaveInit, "SGX_IOC_ENCLAVE_INIT"},
	{IocEnclaveProvision, "SGX_IOC_ENCLAVE_PROVISION"},
	{IocEnclaveRestrictPermissions, "SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS"},
	{IocEnclaveModifyTypes, "SGX_IOC_ENCLAVE_MODIFY_TYPES"},
	{IocEnclaveRemovePages, "SGX_IOC_ENCLAVE_REMOVE_PAGES"},
}

// Size is the argument size the request number encodes (_IOC_SIZE: bits
// 29:16).
func (c Ioctl) Size() int { return int(c>>iocSizeShift) & 0x3fff }

// String returns "SGX_IOC_ENCLAVE_INIT", or "ioctl(0x…)" for another number.
func (c Ioctl) String() string {
	for _, n := range ioctlNames {
		if n.i == uint64(c) {
			return n.s
		}
	}
	return "ioctl(0x" + strconv.FormatUint(uint64(c), 16) + ")"
}

// quads marshals n consecutive u64 fields.
func quads(vs ...uint64) []byte {
	b := make([]byte, 8*len(vs))
	putU64s(b, vs...)
	return b
}

// unquads decodes exactly 8*len(ps) bytes into ps.
func unquads(st string, b []byte, ps ...*uint64) error {
	if len(b) != 8*len(ps) {
		return sizeError(st, len(b), strconv.Itoa(8*len(ps)))
	}
	getU64s(b, ps...)
	return nil
}

// EnclaveCreate is struct sgx_enclave_create (8 bytes): the address of the
// SECS source page.
type EnclaveCreate struct{ Src uint64 }

// MarshalBinary returns the 8 wire bytes.
func (c *EnclaveCreate) MarshalBinary() ([]byte, error) { return quads(c.Src), nil }

// UnmarshalBinary decodes exactly 8 bytes.
func (c *EnclaveCreate) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_create", b, &c.Src)
}

// EnclaveAddPages is struct sgx_enclave_add_pages (48 bytes). Count is
// written back by the kernel: the bytes added.
type EnclaveAddPages struct{ Src, Offset, Length, Secinfo, Flags, Count uint64 }

// MarshalBinary returns the 48 wire bytes.
func (a *EnclaveAddPages) MarshalBinary() ([]byte, error) {
	return quads(a.Src, a.Offset, a.Length, a.Secinfo, a.Flags, a.Count), nil
}

// UnmarshalBinary decodes exactly 48 bytes.
func (a *EnclaveAddPages) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_add_pages", b, &a.Src, &a.Offset, &a.Length, &a.Secinfo, &a.Flags, &a.Count)
}

// EnclaveInit is struct sgx_enclave_init (8 bytes): the SIGSTRUCT address.
type EnclaveInit struct{ SigStruct uint64 }

// MarshalBinary returns the 8 wire bytes.
func (i *EnclaveInit) MarshalBinary() ([]byte, error) { return quads(i.SigStruct), nil }

// UnmarshalBinary decodes exactly 8 bytes.
func (i *EnclaveInit) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_init", b, &i.SigStruct)
}

// EnclaveProvision is struct sgx_enclave_provision (8 bytes): a file
// descriptor of /dev/sgx_provision.
type EnclaveProvision struct{ Fd uint64 }

// MarshalBinary returns the 8 wire bytes.
func (p *EnclaveProvision) MarshalBinary() ([]byte, error) { return quads(p.Fd), nil }

// UnmarshalBinary decodes exactly 8 bytes.
func (p *EnclaveProvision) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_provision", b, &p.Fd)
}

// EnclaveRestrictPermissions is struct sgx_enclave_restrict_permissions
// (40 bytes, SGX2). Result (EMODPR's error code) and Count are outputs.
type EnclaveRestrictPermissions struct{ Offset, Length, Permissions, Result, Count uint64 }

// MarshalBinary returns the 40 wire bytes.
func (r *EnclaveRestrictPermissions) MarshalBinary() ([]byte, error) {
	return quads(r.Offset, r.Length, r.Permissions, r.Result, r.Count), nil
}

// UnmarshalBinary decodes exactly 40 bytes.
func (r *EnclaveRestrictPermissions) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_restrict_permissions", b, &r.Offset, &r.Length, &r.Permissions, &r.Result, &r.Count)
}

// EnclaveModifyTypes is struct sgx_enclave_modify_types (40 bytes, SGX2).
// Result (EMODT's error code) and Count are outputs.
type EnclaveModifyTypes struct{ Offset, Length, PageType, Result, Count uint64 }

// MarshalBinary returns the 40 wire bytes.
func (m *EnclaveModifyTypes) MarshalBinary() ([]byte, error) {
	return quads(m.Offset, m.Length, m.PageType, m.Result, m.Count), nil
}

// UnmarshalBinary decodes exactly 40 bytes.
func (m *EnclaveModifyTypes) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_modify_types", b, &m.Offset, &m.Length, &m.PageType, &m.Result, &m.Count)
}

// EnclaveRemovePages is struct sgx_enclave_remove_pages (24 bytes, SGX2).
// Count is an output.
type EnclaveRemovePages struct{ Offset, Length, Count uint64 }

// MarshalBinary returns the 24 wire bytes.
func (r *EnclaveRemovePages) MarshalBinary() ([]byte, error) {
	return quads(r.Offset, r.Length, r.Count), nil
}

// UnmarshalBinary decodes exactly 24 bytes.
func (r *EnclaveRemovePages) UnmarshalBinary(b []byte) error {
	return unquads("sgx_enclave_remove_pages", b, &r.Offset, &r.Length, &r.Count)
}

// EnclaveRun is struct sgx_enclave_run (256 bytes), the 7th argument of
// __vdso_sgx_enter_enclave (SGX.md §4): tcs @0, function @8,
// exception_vector @12, exception_error_code @14, exception_addr @16,
// user_handler @24, user_data @32, reserved[216] @40. The vDSO fails with
// EINVAL when reserved is not all zero; Validate checks that.
type EnclaveRun struct {
	TCS                uint64
	Function           uint32 // leaf of the last ENCLU: EENTER/ERESUME in, EEXIT (4) out
	ExceptionVector    uint16
	ExceptionErrorCode uint16
	ExceptionAddr      uint64
	UserHandler        uint64
	UserData           uint64
	Reserved           [216]byte
}

// MarshalBinary returns the 256 wire bytes, Reserved as it is.
func (r *EnclaveRun) MarshalBinary() ([]byte, error) {
	b := make([]byte, EnclaveRunSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], r.TCS)
	le.PutUint32(b[8:], r.Function)
	le.PutUint16(b[12:], r.ExceptionVector)
	le.PutUint16(b[14:], r.ExceptionErrorCode)
	putU64s(b[16:], r.ExceptionAddr, r.UserHandler, r.UserData)
	copy(b[40:], r.Reserved[:])
	return b, nil
}

// UnmarshalBinary decodes exactly 256 bytes; Reserved is kept as found, for
// Validate.
func (r *EnclaveRun) UnmarshalBinary(b []byte) error {
	if len(b) != EnclaveRunSize {
		return sizeError("sgx_enclave_run", len(b), "256")
	}
	le := binary.LittleEndian
	r.TCS = le.Uint64(b[0:])
	r.Function = le.Uint32(b[8:])
	r.ExceptionVector = le.Uint16(b[12:])
	r.ExceptionErrorCode = le.Uint16(b[14:])
	getU64s(b[16:], &r.ExceptionAddr, &r.UserHandler, &r.UserData)
	copy(r.Reserved[:], b[40:])
	return nil
}

// Validate reports a non-zero reserved byte as the vDSO does (it returns
// -EINVAL): a *DecodeError with ErrReserved naming the byte.
func (r *EnclaveRun) Validate() error {
	for i, c := range r.Reserved {
		if c != 0 {
			return &DecodeError{Struct: "sgx_enclave_run", Field: "reserved", Off: 40 + i, Value: uint64(c),
				Msg: "must be zero", Err: ErrReserved}
		}
	}
	return nil
}
