package dwarfx

import (
	"errors"
	"testing"
)

func TestDecodeOps(t *testing.T) {
	tests := []struct {
		expr  []byte
		codes []byte
		err   bool
	}{
		{[]byte{0x55}, []byte{0x55}, false},                                     // DW_OP_reg5
		{[]byte{0x91, 0x80, 0x7f}, []byte{0x91}, false},                         // DW_OP_fbreg -128
		{[]byte{0xa3, 0x01, 0x55, 0x9f}, []byte{0xa3, 0x9f}, false},             // entry_value(reg5), stack_value
		{[]byte{0x03, 1, 2, 3, 4, 5, 6, 7, 8, 0x06}, []byte{0x03, 0x06}, false}, // addr, deref
		{[]byte{0x92, 0x03, 0x7f}, []byte{0x92}, false},                         // bregx rbx -1
		{[]byte{0x03, 1, 2}, nil, true},                                         // truncated address
		{[]byte{0xa3, 0x05, 0x55}, nil, true},                                   // block past the end
		{[]byte{0x10, 0x80}, nil, true},                                         // unterminated ULEB
		{[]byte{0x01}, nil, true},                                               // not an opcode
	}
	for _, tc := range tests {
		ops, err := decodeOps(tc.expr)
		if (err != nil) != tc.err {
			t.Errorf("decodeOps(%x): error %v, want error %v", tc.expr, err, tc.err)
			continue
		}
		var codes []byte
		for _, o := range ops {
			codes = append(codes, o.code)
		}
		if string(codes) != string(tc.codes) {
			t.Errorf("decodeOps(%x) = opcodes %x, want %x", tc.expr, codes, tc.codes)
		}
	}
}

func TestRewriteEntryValues(t *testing.T) {
	ops, err := decodeOps([]byte{0xa3, 0x01, 0x54, 0x23, 0x08, 0x9f}) // entry_value(rsi) + 8, stack_value
	if err != nil {
		t.Fatal(err)
	}
	var sub []byte
	b, err := rewriteEntryValues(ops, func(s []byte) (uint64, error) { sub = s; return 0x1000, nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x0e, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0x23, 0x08, 0x9f}
	if string(b) != string(want) || string(sub) != "\x54" {
		t.Errorf("rewritten %x (sub %x), want %x", b, sub, want)
	}
	unavail := unavailable(EntryValueUnavailable)
	if _, err := rewriteEntryValues(ops, func([]byte) (uint64, error) { return 0, unavail }); !errors.Is(err, unavail) {
		t.Errorf("eval error not passed on: %v", err)
	}
	ops, _ = decodeOps([]byte{0xa3, 0x01, 0x54, 0x28, 0x00, 0x00, 0x9f})
	if _, err := rewriteEntryValues(ops, func([]byte) (uint64, error) { return 1, nil }); err == nil {
		t.Error("entry value with a branch: no error")
	}
}

func TestHasEmptyPiece(t *testing.T) {
	for expr, want := range map[string]bool{
		"\x50\x93\x08\x51\x93\x08": false, // rax:8, rdx:8
		"\x93\x08\x51\x93\x08":     true,  // (none):8, rdx:8
		"\x50\x93\x08\x93\x08":     true,  // rax:8, (none):8
		"\x55":                     false,
	} {
		if got := hasEmptyPiece([]byte(expr)); got != want {
			t.Errorf("hasEmptyPiece(%x) = %v, want %v", expr, got, want)
		}
	}
}
