package tui

import (
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// TestProductionSummary: the status line of a production enclave's stop
// shows what the OS saw, never an SSA frame or RIP.
func TestProductionSummary(t *testing.T) {
	pf := target.OSView(target.Event{Kind: target.EvAEX, TCS: 0x7f0000000000, SSA: 0, CSSA: 1, Valid: true, Vector: sgx.VectorPF,
		ExitType: sgx.ExitHardware, MAddr: 0x10123, ErrCd: 0x4, RIP: 0x7f0000013120})
	ud := pf
	ud.Vector = sgx.VectorUD
	for _, tt := range []struct {
		ev   target.Event
		want string
	}{
		{pf, "AEX #PF page fault · TCS 0x7f0000000000 · production enclave: page 0x10000 · errcd 0x4"},
		{ud, "AEX #UD invalid opcode · TCS 0x7f0000000000 · production enclave: the vector only"},
		{target.OSView(target.Event{Kind: target.EvERESUME, TCS: 0x7f0000000000, CSSA: 1}), "ERESUME · TCS 0x7f0000000000 · production enclave"},
	} {
		if got := eventSummary(tt.ev); got != tt.want {
			t.Errorf("summary %q, want %q", got, tt.want)
		}
	}
}
