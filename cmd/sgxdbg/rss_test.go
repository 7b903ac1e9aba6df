package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// peakRSS runs sgxdbg ARGS… over the int3 sample called n times (one #BP
// AEX per call) and returns the peak resident set in KiB that wait4
// reports for sgxdbg (ru_maxrss: the larger of sgxdbg's and of the
// children it reaped, the host — a few MiB either way, as /usr/bin/time
// reports it).
func peakRSS(tb testing.TB, bin, dir string, n int, args ...string) int64 {
	tb.Helper()
	cmd := exec.Command(bin, append(args, hostArgs(dir, "int3", []string{"--repeat", strconv.Itoa(n)}, "0")...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("sgxdbg %v: %v\n%s", args, err, errb.String())
	}
	if lines := bytes.Count(out.Bytes(), []byte("ecall 0 returned 0x1\n")); lines != n {
		tb.Fatalf("sgxdbg %v: %d ecalls returned, want %d", args, lines, n)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// TestExecMemoryBounded: a session that lets 10 000 AEXs through keeps
// its memory within twice the bare emulator's (the timeline is bounded;
// unbounded, it grew by about 7 KiB per AEX).
func TestExecMemoryBounded(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	const n = 10000
	emulate := peakRSS(t, bin, dir, n, "emulate", "--")
	session := peakRSS(t, bin, dir, n, "exec", "--stop-on", "none", "--")
	t.Logf("%d AEXs: peak RSS exec %d KiB, emulate %d KiB (%.2f×)", n, session, emulate, float64(session)/float64(emulate))
	if session > 2*emulate {
		t.Errorf("exec's peak RSS %d KiB is more than twice emulate's %d KiB", session, emulate)
	}
}

// BenchmarkExecRSS reports the peak RSS of `exec --stop-on none` and of
// `emulate` over SGXDBG_RSS_AEXS AEXs (default 100 000; the README's
// number is for 1 000 000) and their ratio.
func BenchmarkExecRSS(b *testing.B) {
	dir := fixtures.Samples(b)
	bin := fixtures.Binary(b)
	n := 100000
	if v := os.Getenv("SGXDBG_RSS_AEXS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("SGXDBG_RSS_AEXS=%q: %v", v, fmt.Errorf("want a positive count"))
		}
	}
	var emulate, session int64
	for b.Loop() {
		emulate = max(emulate, peakRSS(b, bin, dir, n, "emulate", "--"))
		session = max(session, peakRSS(b, bin, dir, n, "exec", "--stop-on", "none", "--"))
	}
	b.ReportMetric(float64(session), "KiB-exec")
	b.ReportMetric(float64(emulate), "KiB-emulate")
	b.ReportMetric(float64(session)/float64(emulate), "x-emulate")
}
