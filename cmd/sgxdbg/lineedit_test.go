package main

import "testing"

func TestRepeatOf(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"stepi", "stepi"},
		{"si", "si"},
		{"next", "next"},
		{"s 2", "s 2"},
		{"ni", "ni"},
		{"finish", ""},
		{"x/4xg ssa.rsp", "x"},
		{"x $rsp", "x"},
		{"x", "x"},
		{"regs", ""},
		{"eresume", ""},
		{"xyz", ""},
		{"", ""},
	} {
		if got := repeatOf(c.line); got != c.want {
			t.Errorf("repeatOf(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}
