package coredump_test

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/coredump"
	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// The 64 MiB enclave of testdata/big.c.
const (
	bigSize     = 128 << 20
	bigDataOff  = 0x100000
	bigDataSize = 64 << 20
)

// bigHost builds testdata/big.c and signs its enclave; it returns the
// host and the SIGSTRUCT.
func bigHost(tb testing.TB) (host, sig string) {
	tb.Helper()
	dir := tb.TempDir()
	host, sig = filepath.Join(dir, "big"), filepath.Join(dir, "big.sig")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-Werror", "-o", host, "testdata/big.c").CombinedOutput(); err != nil {
		tb.Fatalf("gcc: %v\n%s", err, out)
	}
	m := sgx.NewMeasurement(bigSize, 1)
	tcs := sgx.TCS{OSSA: 0x1000, NSSA: 1, OENTRY: 0x2000}
	tb0, _ := tcs.MarshalBinary()
	code := make([]byte, sgx.PageSize)
	code[0], code[1] = 0x0f, 0x0b
	rw := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
	add := func(off uint64, fl sgx.SecinfoFlags, data []byte, measure bool) {
		if err := m.AddPage(off, fl, data, measure); err != nil {
			tb.Fatal(err)
		}
	}
	add(0, sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0), tb0, true)
	add(0x1000, rw, make([]byte, sgx.PageSize), false)
	add(0x2000, sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoX), code, true)
	zero := make([]byte, sgx.PageSize)
	for off := uint64(0); off < bigDataSize; off += sgx.PageSize {
		add(bigDataOff+off, rw, zero, false)
	}
	s := sgx.NewSigStruct()
	s.EnclaveHash = m.Sum()
	s.Attributes = sgx.Attributes{Flags: sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 3}
	s.AttributeMask = sgx.Attributes{Flags: ^sgx.AttributeFlags(0), XFRM: ^uint64(0)}
	s.MiscSelect, s.MiscMask = sgx.MiscEXINFO, 0xffffffff
	key, err := sgx.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	if err := sgx.Sign(s, key, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); err != nil {
		tb.Fatal(err)
	}
	raw, _ := s.MarshalBinary()
	if err := os.WriteFile(sig, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	return host, sig
}

// procStatus reads a "VmXXX:  N kB" line of /proc/self/status, in bytes.
func procStatus(tb testing.TB, key string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", key)
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS
// (proc(5), /proc/PID/clear_refs "5").
func resetPeakRSS(tb testing.TB) {
	tb.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkDump64MiB dumps the 64 MiB debug enclave of testdata/big.c at its
// #UD AEX under the emulator, and compares in the same stop one pread loop
// over /proc/PID/mem over the same enclave bytes (what EDBGRD costs on
// hardware, the baseline): x-baseline is dump time / pread time (2 or less
// wanted: at least half the throughput). rss-growth-MiB is the peak RSS
// the dump added (VmHWM after it minus VmRSS before). The dump goes to a
// file in the test's temporary directory; "discard" writes it nowhere.
func BenchmarkDump64MiB(b *testing.B) {
	host, sig := bigHost(b)
	out := filepath.Join(b.TempDir(), "big.core")
	for _, to := range []string{"file", "discard"} {
		b.Run(to, func(b *testing.B) {
			b.StopTimer()
			var dump, pread time.Duration
			var growth int64
			for i := 0; i < b.N; i++ {
				d, p, g := dumpOnce(b, host, sig, out, to == "discard")
				dump, pread, growth = dump+d, pread+p, max(growth, g)
			}
			mib := float64(bigDataSize>>20) * float64(b.N)
			b.ReportMetric(mib/dump.Seconds(), "dump-MiB/s")
			b.ReportMetric(mib/pread.Seconds(), "pread-MiB/s")
			b.ReportMetric(float64(dump)/float64(pread), "x-baseline")
			b.ReportMetric(float64(growth)/(1<<20), "rss-growth-MiB")
		})
	}
}

// dumpOnce runs the host to its AEX and there times the dump and the
// pread baseline, and measures the dump's peak RSS growth.
func dumpOnce(b *testing.B, host, sig, out string, discard bool) (dump, pread time.Duration, growth int64) {
	var stopErr error
	stopped := false
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	_, err = emu.Run(emu.Options{Path: host, Args: []string{host, sig}, Files: []*os.File{null, null, os.Stderr},
		OnStop: func(s *emu.Stop) {
			if stopped || s.Event().Kind != emu.EvAEX {
				return
			}
			stopped = true
			defer s.Emulator().Kill()
			encls := s.Enclaves()
			if len(encls) != 1 {
				stopErr = fmt.Errorf("%d enclaves", len(encls))
				return
			}
			pread, stopErr = preadLoop(encls[0].Pid, encls[0].Base+bigDataOff, bigDataSize)
			if stopErr != nil {
				return
			}
			var w io.Writer = io.Discard
			if !discard {
				f, err := os.Create(out)
				if err != nil {
					stopErr = err
					return
				}
				defer f.Close()
				w = f
			}
			runtime.GC()
			before := procStatus(b, "VmRSS")
			resetPeakRSS(b)
			b.StartTimer()
			start := time.Now()
			sum, err := coredump.Write(w, s, coredump.Options{})
			dump = time.Since(start)
			b.StopTimer()
			growth = procStatus(b, "VmHWM") - before
			if err == nil && sum.Pages != 3+bigDataSize/sgx.PageSize {
				err = fmt.Errorf("%d pages dumped", sum.Pages)
			}
			stopErr = err
		}})
	if stopErr == nil && !stopped {
		stopErr = fmt.Errorf("the host never stopped at its AEX (%v)", err)
	}
	if stopErr != nil {
		b.Fatal(stopErr)
	}
	return dump, pread, growth
}

// preadLoop reads n bytes of pid's memory at addr through /proc/PID/mem
// in 1 MiB preads, as a debugger reads enclave memory on SGX hardware.
func preadLoop(pid int, addr, n uint64) (time.Duration, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	start := time.Now()
	for off := uint64(0); off < n; off += uint64(len(buf)) {
		if _, err := f.ReadAt(buf, int64(addr+off)); err != nil {
			return 0, fmt.Errorf("pread %#x: %w", addr+off, err)
		}
	}
	return time.Since(start), nil
}
