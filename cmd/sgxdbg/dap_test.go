package main

import "testing"

// TestCheckListen: --listen takes loopback addresses only, unless
// --allow-remote.
func TestCheckListen(t *testing.T) {
	for _, tt := range []struct {
		addr  string
		allow bool
		want  string
	}{
		{"127.0.0.1:4711", false, ""},
		{"127.0.0.2:0", false, ""},
		{"[::1]:4711", false, ""},
		{"localhost:4711", false, ""},
		{"0.0.0.0:4711", false, "--listen 0.0.0.0:4711: not a loopback address (a DAP client can run programs as you; --allow-remote to listen there anyway)"},
		{":4711", false, "--listen :4711: not a loopback address (a DAP client can run programs as you; --allow-remote to listen there anyway)"},
		{"example.org:4711", false, "--listen example.org:4711: not a loopback address (a DAP client can run programs as you; --allow-remote to listen there anyway)"},
		{"0.0.0.0:4711", true, ""},
		{"4711", false, "--listen 4711: address 4711: missing port in address"},
	} {
		got := ""
		if err := checkListen(tt.addr, tt.allow); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("checkListen(%q, %v) = %q, want %q", tt.addr, tt.allow, got, tt.want)
		}
	}
}
