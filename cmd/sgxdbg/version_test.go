package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	full := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sgxdbg/sgxdbg", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "97d521a0"}, {Key: "vcs.time", Value: "2026-12-06T15:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name   string
		linked linked
		bi     *debug.BuildInfo
		want   string
	}{
		{"full", linked{}, full, "sgxdbg v0.3.0\nmodule   github.com/sgxdbg/sgxdbg\nrevision 97d521a0 (modified)\ntime     2026-12-06T15:00:00Z\ngo       go1.26.8\n"},
		{"linked", linked{"v1.0.0", "abcdef12", "2026-12-01T10:00:00Z"}, full, "sgxdbg v1.0.0\nmodule   github.com/sgxdbg/sgxdbg\nrevision abcdef12\ntime     2026-12-01T10:00:00Z\ngo       go1.26.8\n"},
		{"no vcs", linked{}, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m", Version: "(devel)"}},
			"sgxdbg (devel)\nmodule   m\nrevision unknown (built without VCS information)\ngo       go1.26.8\n"},
		{"no info", linked{}, nil, "sgxdbg unknown\nrevision unknown (built without VCS information)\ngo       unknown (no build information in this binary)\n"},
	}
	for _, tt := range tests {
		if got := versionText(tt.linked, tt.bi); got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}
