package emu

import (
	"os"
	"strings"
	"testing"
)

// Lines of this process's own maps file parse and format back to the
// kernel's bytes (fs/proc/task_mmu.c layout), paths with spaces included.
func TestMapsLineRoundTrip(t *testing.T) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	lines = append(lines,
		"7f0000000000-7f0000001000 rw-s 00000000 00:01 4242                       /memfd:sgx_enclave (deleted)",
		"7f0000002000-7f0000003000 r--p 00001000 fe:00 12                         /tmp/a file with spaces")
	for _, s := range lines {
		l, ok := parseMapsLine(s)
		if !ok {
			t.Errorf("%q does not parse", s)
			continue
		}
		if got := l.String(); got != s {
			t.Errorf("round trip:\n got %q\nwant %q", got, s)
		}
	}
	for _, bad := range []string{"", "zz-10 rw-p 0 00:00 0", "1000-2000 rw-p 0 00:00", "1000-2000 rwxps 0 00:00 0", "1000-2000 rw-p x 00:00 0"} {
		if _, ok := parseMapsLine(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// parseMapsLine reads kernel text the emulator did not produce: it never
// panics, and what it accepts formats to a line it accepts the same way.
func FuzzMapsLine(f *testing.F) {
	f.Add("7f0000000000-7f0000001000 rw-s 00000000 00:01 4242                       /memfd:sgx_enclave (deleted)")
	f.Add("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]")
	f.Add("1000-2000 r--p 0 0:0 0 ")
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := parseMapsLine(s)
		if !ok {
			return
		}
		again, ok := parseMapsLine(l.String())
		if !ok || again.start != l.start || again.end != l.end || again.perms != l.perms || again.offset != l.offset ||
			again.inode != l.inode || again.dev != l.dev {
			t.Errorf("%q -> %q -> %+v, %v", s, l.String(), again, ok)
		}
	})
}

// ParseSize reads user input: it never panics, and what it accepts is a
// non-zero multiple of 4 KiB below 2^52.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"128M", "0x8000000", "64GiB", "1T", "4096T", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err == nil && (v == 0 || v%4096 != 0 || v >= 1<<52) {
			t.Errorf("ParseSize(%q) = %#x", s, v)
		}
	})
}
