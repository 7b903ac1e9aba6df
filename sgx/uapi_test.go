package sgx

import (
	"encoding"
	"errors"
	"reflect"
	"testing"
)

func TestIoctlNumbers(t *testing.T) {
	tests := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"SGX_IOC_ENCLAVE_CREATE", IocEnclaveCreate, 0x4008A400},
		{"SGX_IOC_ENCLAVE_ADD_PAGES", IocEnclaveAddPages, 0xC030A401},
		{"SGX_IOC_ENCLAVE_INIT", IocEnclaveInit, 0x4008A402},
		{"SGX_IOC_ENCLAVE_PROVISION", IocEnclaveProvision, 0x4008A403},
		{"SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS", IocEnclaveRestrictPermissions, 0xC028A405},
		{"SGX_IOC_ENCLAVE_MODIFY_TYPES", IocEnclaveModifyTypes, 0xC028A406},
		{"SGX_IOC_ENCLAVE_REMOVE_PAGES", IocEnclaveRemovePages, 0xC018A407},
		{"SGX_PAGE_MEASURE", PageMeasure, 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
		if tt.name != "SGX_PAGE_MEASURE" {
			if s := Ioctl(tt.got).String(); s != tt.name {
				t.Errorf("Ioctl(%#x).String() = %q, want %q", tt.got, s, tt.name)
			}
		}
	}
	if s := Ioctl(0x5401).String(); s != "ioctl(0x5401)" {
		t.Errorf("Ioctl(TCGETS) = %q", s)
	}
	for req, want := range map[uint64]int{IocEnclaveCreate: 8, IocEnclaveAddPages: 48, IocEnclaveRestrictPermissions: 40,
		IocEnclaveModifyTypes: 40, IocEnclaveRemovePages: 24, 0x5401: 0} {
		if got := Ioctl(req).Size(); got != want {
			t.Errorf("Ioctl(%#x).Size() = %d, want %d", req, got, want)
		}
	}
}

// uapiCodec is one ioctl struct: a zero value to decode into, a value with
// distinct field patterns, its size and its fields' offsets.
type uapiCodec interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

func TestUAPILayouts(t *testing.T) {
	tests := []struct {
		name  string
		val   uapiCodec
		empty func() uapiCodec
		size  int
		spans []span
	}{
		{"sgx_enclave_create", &EnclaveCreate{Src: 0x0102030405060708}, func() uapiCodec { return new(EnclaveCreate) }, 8,
			[]span{{"src", 0, le64(0x0102030405060708)}}},
		{"sgx_enclave_add_pages", &EnclaveAddPages{Src: 0x1011, Offset: 0x2021, Length: 0x3031, Secinfo: 0x4041, Flags: 0x5051, Count: 0x6061},
			func() uapiCodec { return new(EnclaveAddPages) }, 48,
			[]span{{"src", 0, le64(0x1011)}, {"offset", 8, le64(0x2021)}, {"length", 16, le64(0x3031)},
				{"secinfo", 24, le64(0x4041)}, {"flags", 32, le64(0x5051)}, {"count", 40, le64(0x6061)}}},
		{"sgx_enclave_init", &EnclaveInit{SigStruct: 0x7071727374757677}, func() uapiCodec { return new(EnclaveInit) }, 8,
			[]span{{"sigstruct", 0, le64(0x7071727374757677)}}},
		{"sgx_enclave_provision", &EnclaveProvision{Fd: 0x8081}, func() uapiCodec { return new(EnclaveProvision) }, 8,
			[]span{{"fd", 0, le64(0x8081)}}},
		{"sgx_enclave_restrict_permissions", &EnclaveRestrictPermissions{Offset: 0x11, Length: 0x22, Permissions: 0x33, Result: 0x44, Count: 0x55},
			func() uapiCodec { return new(EnclaveRestrictPermissions) }, 40,
			[]span{{"offset", 0, le64(0x11)}, {"length", 8, le64(0x22)}, {"permissions", 16, le64(0x33)},
				{"result", 24, le64(0x44)}, {"count", 32, le64(0x55)}}},
		{"sgx_enclave_modify_types", &EnclaveModifyTypes{Offset: 0x12, Length: 0x23, PageType: 0x34, Result: 0x45, Count: 0x56},
			func() uapiCodec { return new(EnclaveModifyTypes) }, 40,
			[]span{{"offset", 0, le64(0x12)}, {"length", 8, le64(0x23)}, {"page_type", 16, le64(0x34)},
				{"result", 24, le64(0x45)}, {"count", 32, le64(0x56)}}},
		{"sgx_enclave_remove_pages", &EnclaveRemovePages{Offset: 0x13, Length: 0x24, Count: 0x35},
			func() uapiCodec { return new(EnclaveRemovePages) }, 24,
			[]span{{"offset", 0, le64(0x13)}, {"length", 8, le64(0x24)}, {"count", 16, le64(0x35)}}},
		{"sgx_enclave_run", &EnclaveRun{TCS: 0x0102030405060708, Function: 0x11121314, ExceptionVector: 0x2122,
			ExceptionErrorCode: 0x3132, ExceptionAddr: 0x4142434445464748, UserHandler: 0x5152535455565758, UserData: 0x6162636465666768},
			func() uapiCodec { return new(EnclaveRun) }, 256,
			[]span{{"tcs", 0, le64(0x0102030405060708)}, {"function", 8, le32(0x11121314)},
				{"exception_vector", 12, le16(0x2122)}, {"exception_error_code", 14, le16(0x3132)},
				{"exception_addr", 16, le64(0x4142434445464748)}, {"user_handler", 24, le64(0x5152535455565758)},
				{"user_data", 32, le64(0x6162636465666768)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.val.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			checkLayout(t, b, tt.size, tt.spans)
			got := tt.empty()
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.val) {
				t.Errorf("round trip: got %+v, want %+v", got, tt.val)
			}
			for _, n := range []int{0, tt.size - 1, tt.size + 1} {
				err := tt.empty().UnmarshalBinary(make([]byte, n))
				var de *DecodeError
				if !errors.As(err, &de) || !errors.Is(err, ErrSize) || de.Off != n {
					t.Errorf("%d bytes: err = %v, want ErrSize at %d", n, err, n)
				}
			}
		})
	}
}

func TestEnclaveRunValidate(t *testing.T) {
	var r EnclaveRun
	if err := r.Validate(); err != nil {
		t.Errorf("zero reserved: %v", err)
	}
	b, _ := r.MarshalBinary()
	b[255] = 9
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	err := r.Validate()
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrReserved) || de.Off != 255 || de.Value != 9 {
		t.Errorf("reserved byte 255 set: err = %v", err)
	}
	// The reserved bytes survive a round trip.
	if again, _ := r.MarshalBinary(); again[255] != 9 {
		t.Error("reserved byte lost in MarshalBinary")
	}
}

func TestEINITTokenLayout(t *testing.T) {
	tok := EINITToken{
		Valid: 0x01020304, Attributes: Attributes{Flags: 0x1112131415161718, XFRM: 0x2122232425262728},
		MRENCLAVE: arr32(pattern(0x30, 32)), MRSIGNER: arr32(pattern(0x50, 32)),
		CPUSVNLE: [16]byte(pattern(0x70, 16)), ISVProdIDLE: 0x8182, ISVSVNLE: 0x8384, CETMaskedAttributesLE: 0x85,
		MaskedMiscSelectLE: 0x91929394, MaskedAttributesLE: Attributes{Flags: 0xa1a2a3a4a5a6a7a8, XFRM: 0xb1b2b3b4b5b6b7b8},
		KeyID: arr32(pattern(0xc0, 32)), MAC: [16]byte(pattern(0xe0, 16)),
	}
	b, _ := tok.MarshalBinary()
	checkLayout(t, b, 304, []span{
		{"VALID", 0, le32(0x01020304)}, {"ATTRIBUTES", 48, le64(0x1112131415161718)}, {"XFRM", 56, le64(0x2122232425262728)},
		{"MRENCLAVE", 64, pattern(0x30, 32)}, {"MRSIGNER", 128, pattern(0x50, 32)}, {"CPUSVNLE", 192, pattern(0x70, 16)},
		{"ISVPRODIDLE", 208, le16(0x8182)}, {"ISVSVNLE", 210, le16(0x8384)}, {"CET_MASKED_ATTRIBUTES_LE", 212, []byte{0x85}},
		{"MASKEDMISCSELECTLE", 236, le32(0x91929394)}, {"MASKEDATTRIBUTESLE", 240, le64(0xa1a2a3a4a5a6a7a8)},
		{"MASKEDXFRMLE", 248, le64(0xb1b2b3b4b5b6b7b8)}, {"KEYID", 256, pattern(0xc0, 32)}, {"MAC", 288, pattern(0xe0, 16)},
	})
	var got EINITToken
	if err := got.UnmarshalBinary(b); err != nil || got != tok {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	for _, off := range []int{4, 47, 96, 127, 160, 191, 213, 235} {
		bad := append([]byte(nil), b...)
		bad[off] = 1
		var de *DecodeError
		if err := got.UnmarshalBinary(bad); !errors.As(err, &de) || !errors.Is(err, ErrReserved) || de.Off != off {
			t.Errorf("reserved byte %d: err = %v", off, err)
		}
	}
	if err := got.UnmarshalBinary(b[:303]); !errors.Is(err, ErrSize) {
		t.Errorf("303 bytes: err = %v", err)
	}
}
