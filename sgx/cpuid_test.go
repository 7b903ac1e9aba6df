package sgx

import (
	"errors"
	"testing"
)

// Leaf 12H as SDM Vol. 3D Tables 37-4 to 37-6 lay it out.
func TestLeaf12(t *testing.T) {
	c := SGXCPUID{SGX2: true, MiscSelect: MiscEXINFO, Attributes: AttrDebug | AttrMode64Bit | AttrProvisionKey,
		XFRM: 0x2_0000_00e7, MaxEnclaveLog32: 31, MaxEnclaveLog64: 36,
		EPC: []EPCSection{{Base: 0x80000000, Size: 0x8000000}, {Base: 0x12_3456_7000, Size: 0x3_0000_1000}}}
	tests := []struct {
		sub  uint32
		want [4]uint32
	}{
		{0, [4]uint32{0x3, 0x1, 0, 0x241f}},
		{1, [4]uint32{0x16, 0, 0xe7, 0x2}},
		{2, [4]uint32{0x80000001, 0, 0x08000001, 0}},
		{3, [4]uint32{0x34567001, 0x12, 0x00001001, 0x3}},
		{4, [4]uint32{}},
		{0xffffffff, [4]uint32{}},
	}
	for _, tc := range tests {
		if got := c.Leaf12(tc.sub); got != tc.want {
			t.Errorf("subleaf %d: %#x, want %#x", tc.sub, got, tc.want)
		}
	}
	c.EDECCSSA = true
	if got := c.Leaf12(0)[0]; got != 0x803 {
		t.Errorf("SGX2 and EDECCSSA: EAX %#x, want 0x803", got)
	}
	c.SGX2, c.EDECCSSA = false, false
	if got := c.Leaf12(0)[0]; got != 1 {
		t.Errorf("SGX1 only: EAX %#x, want 1", got)
	}
	for i, s := range c.EPC {
		got, ok := EPCSectionOf(c.Leaf12(CPUIDEPCSubleaf + uint32(i)))
		if !ok || got != s {
			t.Errorf("EPCSectionOf(subleaf %d) = %+v, %v; want %+v", i+2, got, ok, s)
		}
	}
	if _, ok := EPCSectionOf([4]uint32{0x80000002, 0, 0, 0}); ok {
		t.Error("EPCSectionOf accepted subleaf type 2")
	}
	if got := AdjustFeatures([4]uint32{1, 0x10, 0x20, 0x30}); got != [4]uint32{1, 0x14, 0x40000020, 0x30} {
		t.Errorf("AdjustFeatures: %#x", got)
	}
}

func TestSGXCPUIDCheck(t *testing.T) {
	tests := []struct {
		epc   EPCSection
		field string
	}{
		{EPCSection{0x80000000, 0x8000000}, ""},
		{EPCSection{0x80000800, 0x8000000}, "EPC base"},
		{EPCSection{0x80000000, 0}, "EPC size"},
		{EPCSection{0x80000000, 0x8000010}, "EPC size"},
		{EPCSection{1 << 52, 0x1000}, "EPC section end"},
		{EPCSection{1<<52 - 0x1000, 0x2000}, "EPC section end"},
	}
	for _, tc := range tests {
		c := SGXCPUID{EPC: []EPCSection{tc.epc}}
		err := c.Check()
		var ce *CPUIDError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.epc, err)
		case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field):
			t.Errorf("%+v: %v, want a CPUIDError on %s", tc.epc, err, tc.field)
		}
	}
}
