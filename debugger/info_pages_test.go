package debugger

import (
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Pages in an SGX2 state are listed under their enclave by info enclaves.
func TestChangedPages(t *testing.T) {
	reg := func(perm sgx.SecinfoFlags) sgx.SecinfoFlags { return sgx.MakeSecinfoFlags(sgx.PageTypeREG, perm) }
	e := target.EnclaveInfo{Base: 0x7f0000000000, Size: 0x20000, Pages: []target.Page{
		{Offset: 0, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0)},
		{Offset: 0x1000, Secinfo: reg(sgx.SecinfoR | sgx.SecinfoW)},
		{Offset: 0x2000, Secinfo: reg(sgx.SecinfoR) | sgx.SecinfoPR},
		{Offset: 0x3000, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeTRIM, 0) | sgx.SecinfoModified},
		{Offset: 0x4000, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeTRIM, 0)},
		{Offset: 0x10000, Secinfo: reg(sgx.SecinfoR|sgx.SecinfoW) | sgx.SecinfoPending},
	}}
	want := []string{"0x7f0000002000 R+PR+PT_REG", "0x7f0000003000 MODIFIED+PT_TRIM", "0x7f0000004000 PT_TRIM",
		"0x7f0000010000 R+W+PENDING+PT_REG"}
	got := changedPages(e)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("changedPages\n got %q\nwant %q", got, want)
	}
	r := &EnclavesResult{Enclaves: []EnclaveView{{Base: Hex(e.Base), Size: Hex(e.Size), ChangedPages: got}}}
	if txt := r.Text(); !strings.HasSuffix(txt, "\n  page 0x7f0000002000 R+PR+PT_REG\n  page 0x7f0000003000 MODIFIED+PT_TRIM\n  page 0x7f0000004000 PT_TRIM\n  page 0x7f0000010000 R+W+PENDING+PT_REG") {
		t.Errorf("text:\n%s", txt)
	}
}

// info cpu reads SGX1, SGX2 and EDECCSSA from CPUID.(12H,0).EAX.
func TestCPUResultLeaves(t *testing.T) {
	c := target.CPU{Model: "sgx2", CPUIDMethod: "faulting", Leaf12: [][4]uint32{{0x803, 1, 0, 0x241f}, {0x4b6, 0, 7, 0}, {}}}
	r := cpuResult(c)
	if !r.SGX1 || !r.SGX2 || !r.EDECCSSA || uint64(r.Attributes) != 0x4b6 {
		t.Errorf("%+v", r)
	}
	if txt := r.Text(); !strings.HasPrefix(txt, "cpu sgx2: SGX1 true SGX2 true EDECCSSA true, CPUID caught by faulting") ||
		!strings.Contains(txt, "attributes 0x4b6 (DEBUG+MODE64BIT+PROVISIONKEY+EINITTOKENKEY+KSS+AEXNOTIFY)") {
		t.Errorf("text:\n%s", txt)
	}
	c.Leaf12[0][0] = 1
	if r := cpuResult(c); r.SGX2 || r.EDECCSSA {
		t.Errorf("sgx1: %+v", r)
	}
}
