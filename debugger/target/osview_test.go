package target

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// TestOSView: a production enclave's events keep what the OS sees and
// nothing else, in Go, JSON (round trip) and text.
func TestOSView(t *testing.T) {
	aex := Event{Kind: EvAEX, Tid: 8, Enclave: 0x7f0000000000, TCS: 0x7f0000000000, SSA: 1, CSSA: 2, Valid: true,
		ExitType: sgx.ExitHardware, RIP: 0x7f0000013120, AEP: 0x5555000046f, Delivery: Delivery{Signal: unix.SIGSEGV}}
	pf, gp, ud, intr := aex, aex, aex, aex
	pf.Vector, pf.MAddr, pf.ErrCd = sgx.VectorPF, 0x10123, 0x8007
	gp.Vector, gp.MAddr, gp.ErrCd = sgx.VectorGP, 0x10123, 0x0
	ud.Vector, ud.MAddr, ud.ErrCd = sgx.VectorUD, 0x10123, 0x5
	intr.Valid, intr.Vector, intr.ExitType = false, 0, 0
	tests := []struct {
		name string
		in   Event
		json string
		text string
	}{
		{"pf", pf,
			`{"aep":"0x5555000046f","enclave":"0x7f0000000000","errcd":"0x8007","event":"aex","exit_type":"hardware","maddr":"0x10000","production":true,"signal":"SIGSEGV","tcs":"0x7f0000000000","tid":8,"valid":true,"vector":14,"vector_name":"#PF"}`,
			"aex                 tid 8 tcs 0x7f0000000000 #PF (page fault) hardware valid=true page 0x10000 errcd 0x8007 aep 0x5555000046f -> SIGSEGV (production enclave: what the OS sees)"},
		{"gp", gp,
			`{"aep":"0x5555000046f","enclave":"0x7f0000000000","errcd":"0x0","event":"aex","exit_type":"hardware","production":true,"signal":"SIGSEGV","tcs":"0x7f0000000000","tid":8,"valid":true,"vector":13,"vector_name":"#GP"}`,
			"aex                 tid 8 tcs 0x7f0000000000 #GP (general protection) hardware valid=true errcd 0x0 aep 0x5555000046f -> SIGSEGV (production enclave: what the OS sees)"},
		{"ud", ud,
			`{"aep":"0x5555000046f","enclave":"0x7f0000000000","event":"aex","exit_type":"hardware","production":true,"signal":"SIGSEGV","tcs":"0x7f0000000000","tid":8,"valid":true,"vector":6,"vector_name":"#UD"}`,
			"aex                 tid 8 tcs 0x7f0000000000 #UD (invalid opcode) hardware valid=true aep 0x5555000046f -> SIGSEGV (production enclave: what the OS sees)"},
		{"interrupt", intr,
			`{"aep":"0x5555000046f","enclave":"0x7f0000000000","event":"aex","exit_type":"none","production":true,"signal":"SIGSEGV","tcs":"0x7f0000000000","tid":8,"valid":false,"vector":0,"vector_name":"none"}`,
			"aex                 tid 8 tcs 0x7f0000000000 none (divide error) none valid=false aep 0x5555000046f -> SIGSEGV (production enclave: what the OS sees)"},
		{"eenter", Event{Kind: EvEENTER, Tid: 8, TCS: 0x7f0000000000, CSSA: 1},
			`{"event":"eenter","production":true,"tcs":"0x7f0000000000","tid":8}`,
			"eenter              tid 8 tcs 0x7f0000000000 (production enclave)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := OSView(tt.in)
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.json {
				t.Errorf("JSON\n got %s\nwant %s", b, tt.json)
			}
			if ev.String() != tt.text {
				t.Errorf("text\n got %q\nwant %q", ev.String(), tt.text)
			}
			var back Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back != ev {
				t.Errorf("round trip %+v, want %+v", back, ev)
			}
		})
	}
	// A production event with an SSA-derived key is refused.
	bad := strings.Replace(tests[0].json, `"production":true`, `"production":true,"rip":"0x7f0000013120"`, 1)
	var e Event
	if err := json.Unmarshal([]byte(bad), &e); err == nil || !strings.Contains(err.Error(), `"rip": not allowed in a production enclave's event`) {
		t.Errorf("decoding %s: %v", bad, err)
	}
	// Events of debug enclaves and other kinds are not touched.
	if got := OSView(Event{Kind: EvEEXIT, TCS: 1}); got.Production {
		t.Error("eexit marked production")
	}
}
