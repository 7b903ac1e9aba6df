package ssa

import (
	"strconv"
	"strings"
)

// RFlags is an RFLAGS value, named for display.
type RFlags uint64

// RFLAGS bits (SDM Vol. 1 §3.4.3).
const (
	FlagCF   RFlags = 1 << 0
	FlagPF   RFlags = 1 << 2
	FlagAF   RFlags = 1 << 4
	FlagZF   RFlags = 1 << 6
	FlagSF   RFlags = 1 << 7
	FlagTF   RFlags = 1 << 8
	FlagIF   RFlags = 1 << 9
	FlagDF   RFlags = 1 << 10
	FlagOF   RFlags = 1 << 11
	FlagIOPL RFlags = 3 << 12
	FlagNT   RFlags = 1 << 14
	FlagRF   RFlags = 1 << 16
	FlagVM   RFlags = 1 << 17
	FlagAC   RFlags = 1 << 18
	FlagVIF  RFlags = 1 << 19
	FlagVIP  RFlags = 1 << 20
	FlagID   RFlags = 1 << 21

	// flagFixed is bit 1, reserved and always 1.
	flagFixed RFlags = 1 << 1
)

var rflagNames = []intName{
	{uint64(FlagCF), "CF"}, {uint64(FlagPF), "PF"}, {uint64(FlagAF), "AF"}, {uint64(FlagZF), "ZF"},
	{uint64(FlagSF), "SF"}, {uint64(FlagTF), "TF"}, {uint64(FlagIF), "IF"}, {uint64(FlagDF), "DF"},
	{uint64(FlagOF), "OF"}, {uint64(FlagNT), "NT"}, {uint64(FlagRF), "RF"}, {uint64(FlagVM), "VM"},
	{uint64(FlagAC), "AC"}, {uint64(FlagVIF), "VIF"}, {uint64(FlagVIP), "VIP"}, {uint64(FlagID), "ID"},
}

// String lists the set flags like gdb, "[ PF ZF IF RF ]"; IOPL as
// "IOPL=3" when not 0, unknown bits in hex. The always-one bit 1 is not
// shown.
func (f RFlags) String() string {
	var w []string
	for _, n := range rflagNames {
		if uint64(f)&n.i != 0 {
			w = append(w, n.s)
		}
	}
	if iopl := (f & FlagIOPL) >> 12; iopl != 0 {
		w = append(w, "IOPL="+strconv.Itoa(int(iopl)))
	}
	known := flagFixed | FlagIOPL
	for _, n := range rflagNames {
		known |= RFlags(n.i)
	}
	if u := f &^ known; u != 0 {
		w = append(w, "0x"+strconv.FormatUint(uint64(u), 16))
	}
	return "[ " + strings.Join(append(w, "]"), " ")
}
