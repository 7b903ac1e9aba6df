package target

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// TestEventJSON: every kind of event survives MarshalJSON → UnmarshalJSON,
// and a missing, mistyped or inconsistent key is an error.
func TestEventJSON(t *testing.T) {
	evs := []Event{
		{Kind: EvEnclaveCreated, Pid: 7, Enclave: 0x7f0000000000, Size: 0x100000, SSAFrameSize: 2, MiscSelect: sgx.MiscEXINFO, Attributes: sgx.Attributes{Flags: sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 0xe7}},
		{Kind: EvPagesAdded, Enclave: 0x7f0000000000, Offset: 0x2000, Length: 0x8000, Secinfo: 0x203},
		{Kind: EvEnclaveInitialized, Enclave: 1 << 40, MRENCLAVE: [32]byte{0xff, 1}, MRSIGNER: [32]byte{31: 9}},
		{Kind: EvEENTER, Tid: 8, TCS: 0x7f0000001000, CSSA: 1},
		{Kind: EvERESUME, Tid: 8, TCS: 0x7f0000001000},
		{Kind: EvEEXIT, Tid: 8, TCS: 0x7f0000001000},
		{Kind: EvAEX, Tid: 8, Enclave: 1 << 40, TCS: 2 << 40, SSA: 1, CSSA: 2, Vector: sgx.VectorBP, ExitType: sgx.ExitSoftware,
			Valid: true, MAddr: 0, ErrCd: 0x8007, RIP: 0x7f0000013120, AEP: 0x555500001000, Delivery: Delivery{Signal: unix.SIGTRAP}},
		{Kind: EvAEX, Tid: 8, Enclave: 1 << 40, TCS: 2 << 40, CSSA: 1, RIP: 0x7f0000013120, AEP: 0x555500001000, Delivery: Delivery{Signal: unix.SIGINT}},
		{Kind: EvAEX, Tid: 8, Enclave: 1 << 40, TCS: 2 << 40, CSSA: 1, Vector: sgx.VectorPF, ExitType: sgx.ExitHardware, Valid: true,
			MAddr: 0x10000, ErrCd: 4, RIP: 0x7f0000013120, AEP: 0x555500001000, Delivery: Delivery{VDSO: true}},
		{Kind: EvENCLUFault, Tid: 9, TCS: 5, Leaf: sgx.LeafEENTER, Vector: sgx.VectorGP, Reason: "CSSA >= NSSA", RIP: 0x10, Delivery: Delivery{Signal: unix.SIGSEGV}},
		{Kind: EvENCLUFault, Tid: 9, Leaf: sgx.LeafEEXIT, Vector: sgx.VectorGP, Reason: "EEXIT outside an enclave", RIP: 0x10, Delivery: Delivery{Signal: unix.SIGSEGV}},
		{Kind: EvENCLUFault, Tid: 9, Leaf: 12, Vector: sgx.VectorGP, Reason: "undefined", RIP: 0x10, Delivery: Delivery{Signal: unix.SIGSEGV}},
		{Kind: EvEnclaveRemoved, Pid: 7, Enclave: 1 << 40},
		{Kind: EvCPUIDRewritten, Pid: 7, Enclave: 1 << 40, RIP: 1<<40 + 0x31a5, Reason: "no CPUID faulting on this CPU: CPUID rewritten to UD2"},
		{Kind: EvPagesChanged, Tid: 8, Enclave: 1 << 40, Offset: 0x10000, Length: 0x5000, Secinfo: 0x410, Reason: "EMODT"},
		{Kind: EvPagesChanged, Tid: 8, Enclave: 1 << 40, Offset: 0x10000, Length: 0x1000, Reason: "EREMOVE"},
		{Kind: EvExit, Pid: 7, Status: 2},
		{Kind: EvExit, Pid: 7, Status: 139, Killed: unix.SIGSEGV},
	}
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var got Event
		if err := json.Unmarshal(b, &got); err != nil || !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: decoded %+v, %v", b, got, err)
		}
	}
	for _, bad := range []string{
		`{"event":"eexit","tid":8}`,
		`{"event":"eexit","tid":"8","tcs":"0x1"}`,
		`{"event":"eexit","tid":8,"tcs":"1"}`,
		`{"event":"aex-notify"}`,
		`{"event":"enclave-initialized","enclave":"0x1","mrenclave":"00","mrsigner":"00"}`,
		`{"event":"aex","tid":1,"enclave":"0x1","tcs":"0x1","ssa":0,"cssa":1,"vector":300}`,
		// vector_name and exit_type must agree with vector and valid.
		`{"event":"aex","tid":1,"enclave":"0x1","tcs":"0x1","ssa":0,"cssa":1,"valid":true,"vector":14,"vector_name":"#GP","exit_type":"hardware","maddr":"0x0","errcd":"0x0","rip":"0x1","aep":"0x2","signal":"SIGSEGV"}`,
		`{"event":"aex","tid":1,"enclave":"0x1","tcs":"0x1","ssa":0,"cssa":1,"valid":false,"vector":0,"vector_name":"none","exit_type":"hardware","maddr":"0x0","errcd":"0x0","rip":"0x1","aep":"0x2","signal":"SIGINT"}`,
		`{"event":"aex","tid":1,"enclave":"0x1","tcs":"0x1","ssa":0,"cssa":1,"valid":true,"vector":14,"vector_name":"#PF","exit_type":"hardware","maddr":"0x0","errcd":"0x0","rip":"0x1","aep":"0x2","signal":"SIGNOPE"}`,
		`{"event":"enclu-fault","tid":1,"tcs":"0x1","leaf":"ECREATE","vector":13,"vector_name":"#GP","reason":"x","rip":"0x1","signal":"SIGSEGV"}`,
		`{"event":"enclu-fault","tid":1,"tcs":"0x1","leaf":"EncluLeaf(4)","vector":13,"vector_name":"#GP","reason":"x","rip":"0x1","signal":"SIGSEGV"}`,
		`{"event":"cpuid-rewritten","pid":1,"enclave":"0x1","rip":"0x2"}`,
		`{"event":"pages-changed","tid":1,"enclave":"0x1","offset":"0x0","length":"0x1000","secinfo":"0x20b"}`,
		`{"event":"exit","pid":1,"status":137,"killed":"SIGWHAT"}`,
		`[]`,
	} {
		var ev Event
		if err := json.Unmarshal([]byte(bad), &ev); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestEventJSONKeys pins the contract of `emulate --json`: the exact keys
// and values of an AEX delivered through the vDSO.
func TestEventJSONKeys(t *testing.T) {
	ev := Event{Kind: EvAEX, Pid: 551, Tid: 551, Enclave: 0x7fd93b600000, TCS: 0x7fd93b600000, SSA: 0, CSSA: 1,
		Vector: sgx.VectorPF, ExitType: sgx.ExitHardware, Valid: true, MAddr: 0x10000, ErrCd: 4,
		RIP: 0x7fd93b613120, AEP: 0x55cdb8188116, Delivery: Delivery{Signal: unix.SIGSEGV}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"aep":"0x55cdb8188116","cssa":1,"enclave":"0x7fd93b600000","errcd":"0x4","event":"aex","exit_type":"hardware","maddr":"0x10000","rip":"0x7fd93b613120","signal":"SIGSEGV","ssa":0,"tcs":"0x7fd93b600000","tid":551,"valid":true,"vector":14,"vector_name":"#PF"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if s := ev.String(); !strings.HasPrefix(s, "aex                 tid 551 tcs 0x7fd93b600000 ssa[0] #PF (page fault) hardware valid=true maddr 0x10000 errcd 0x4") || !strings.HasSuffix(s, "-> SIGSEGV") {
		t.Errorf("String() = %q", s)
	}
	// Every kind has a field table: none marshals to an error.
	for kind := range eventFields {
		if _, err := json.Marshal(Event{Kind: kind}); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
	ev = Event{Kind: EvPagesChanged, Tid: 551, Enclave: 0x7fd93b600000, Offset: 0x10000, Length: 0x1000, Secinfo: 0x20b, Reason: "EAUG"}
	if b, _ := json.Marshal(ev); string(b) != `{"enclave":"0x7fd93b600000","event":"pages-changed","length":"0x1000","offset":"0x10000","reason":"EAUG","secinfo":"0x20b","tid":551}` {
		t.Errorf("pages-changed: %s", b)
	}
	if s := ev.String(); s != "pages-changed       enclave 0x7fd93b600000 offset 0x10000 length 0x1000 EAUG -> R+W+PENDING+PT_REG" {
		t.Errorf("String() = %q", s)
	}
	if _, err := json.Marshal(Event{Kind: "bogus"}); err == nil {
		t.Error("an unknown kind marshalled")
	}
}

func TestDelivery(t *testing.T) {
	for _, d := range []Delivery{{Signal: unix.SIGSEGV}, {Signal: unix.SIGTRAP}, {VDSO: true}, {}} {
		got, err := ParseDelivery(d.String())
		if err != nil || got != d {
			t.Errorf("%v: parsed %v, %v", d, got, err)
		}
	}
	if _, err := ParseDelivery("SIGBOGUS"); err == nil {
		t.Error("SIGBOGUS parsed")
	}
}

// TestDebugSpan: the EDBGRD/EDBGWR rules (SDM EDBGRD/EDBGWR; TCS: 72
// readable bytes, FLAGS writable) and their errors.
func TestDebugSpan(t *testing.T) {
	const base = 0x7f0000000000
	reg := DebugPage{Enclave: base, Debug: true, Present: true, Type: sgx.PageTypeREG}
	tcs := DebugPage{Enclave: base, Debug: true, Present: true, Type: sgx.PageTypeTCS}
	for _, tc := range []struct {
		name  string
		p     DebugPage
		addr  uint64
		n     int
		write bool
		want  int
		err   error
		code  sgx.ErrorCode
	}{
		{"reg read to page end", reg, base + 0xff8, 100, false, 8, nil, 0},
		{"reg write", reg, base + 0x10, 4, true, 4, nil, 0},
		{"tcs read head", tcs, base, 4096, false, sgx.TCSDebugReadable, nil, 0},
		{"tcs read past 72", tcs, base + 72, 8, false, 0, nil, 0},
		{"tcs write flags", tcs, base + 8, 8, true, 8, nil, 0},
		{"tcs write flags, more asked", tcs, base + 8, 16, true, 8, nil, 0},
		{"tcs write cssa", tcs, base + 24, 4, true, 0, nil, 0},
		{"secs", DebugPage{Enclave: base, Debug: true, Present: true, Type: sgx.PageTypeSECS}, base, 8, false, 0, nil, sgx.ErrPageNotDebuggable},
		{"not debug", DebugPage{Enclave: base, Present: true, Type: sgx.PageTypeREG}, base, 8, false, 0, ErrNotDebug, 0},
		{"no page", DebugPage{Enclave: base, Debug: true}, base, 8, false, 0, nil, 0},
		{"pending", DebugPage{Enclave: base, Debug: true, Present: true, Type: sgx.PageTypeREG, Unaccepted: true}, base + 0x10, 8, false, 0, nil, sgx.ErrPageNotDebuggable},
		{"modified tcs write", DebugPage{Enclave: base, Debug: true, Present: true, Type: sgx.PageTypeTCS, Unaccepted: true}, base + 8, 8, true, 0, nil, sgx.ErrPageNotDebuggable},
	} {
		got, err := tc.p.Span(tc.addr, tc.n, tc.write)
		if got != tc.want {
			t.Errorf("%s: span %d, want %d (%v)", tc.name, got, tc.want, err)
		}
		if tc.want > 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var dae *DebugAccessError
		switch {
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
		case !errors.As(err, &dae):
			t.Errorf("%s: %v is not a DebugAccessError", tc.name, err)
		case dae.Code != tc.code || dae.Addr != tc.addr || dae.Write != tc.write:
			t.Errorf("%s: %+v", tc.name, dae)
		}
	}
}

func TestPageAt(t *testing.T) {
	e := EnclaveInfo{Base: 0x10000, Size: 0x4000, Attributes: sgx.Attributes{Flags: sgx.AttrDebug},
		Pages: []Page{{Offset: 0, Secinfo: sgx.SecinfoFlags(sgx.PageTypeTCS) << 8}, {Offset: 0x2000, Secinfo: sgx.SecinfoR}}}
	for _, tc := range []struct {
		addr uint64
		off  uint64
		ok   bool
	}{{0x10000, 0, true}, {0x10fff, 0, true}, {0x11000, 0, false}, {0x12008, 0x2000, true}, {0x14000, 0, false}, {0xffff, 0, false}} {
		p, ok := e.PageAt(tc.addr)
		if ok != tc.ok || ok && p.Offset != tc.off {
			t.Errorf("PageAt(%#x) = %+v, %v", tc.addr, p, ok)
		}
	}
	if dp := e.DebugPage(0x10000); !dp.Debug || !dp.Present || dp.Type != sgx.PageTypeTCS {
		t.Errorf("DebugPage = %+v", dp)
	}
}

// TestDR7 checks the DR7 encoding against the SDM's field layout.
func TestDR7(t *testing.T) {
	for _, tc := range []struct {
		slots [NumHWSlots]HWSlot
		want  uint64
	}{
		{[NumHWSlots]HWSlot{{Enabled: true, Kind: HWExecute, Len: 1}}, 0x1},
		{[NumHWSlots]HWSlot{1: {Enabled: true, Kind: HWWrite, Len: 4}}, 0x4 | 0x1<<20 | 0x3<<22},
		{[NumHWSlots]HWSlot{3: {Enabled: true, Kind: HWAccess, Len: 8}}, 0x40 | 0x3<<28 | 0x2<<30},
		{[NumHWSlots]HWSlot{{Enabled: true, Kind: HWWrite, Len: 2}, {}, {Enabled: true, Kind: HWExecute, Len: 1}}, 0x1 | 0x1<<16 | 0x1<<18 | 0x10},
	} {
		if got := DR7(tc.slots); got != tc.want {
			t.Errorf("DR7(%+v) = %#x, want %#x", tc.slots, got, tc.want)
		}
	}
	for _, bad := range []HWSlot{{Enabled: true, Len: 3}, {Enabled: true, Kind: HWExecute, Len: 4}, {Enabled: true, Kind: HWWrite, Len: 8, Addr: 4}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}
