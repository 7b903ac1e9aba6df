package emu

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// The emulator's costs, each measured against a baseline in the same run
// and reported as a ratio (metric "x-baseline"); times are never asserted.
// The baseline of the per-event costs is a bare ptrace trap round trip: a
// tracee executes UD2, the tracer takes the SIGILL stop, steps RIP over it
// and resumes (what debugger/ptrace's BenchmarkTrapRoundTrip measures).

// bareTraps times n round trips of the UD2 loop under ptrace.
func bareTraps(tb testing.TB, tr *ptrace.Tracer, bin string, n int) time.Duration {
	tb.Helper()
	var elapsed time.Duration
	err := tr.Do(func() error {
		p, err := ptrace.Launch(ptrace.LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer reap(p)
		if err := ptrace.Cont(p.Pid, 0); err != nil {
			return err
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			st, err := ptrace.Wait(p.Pid)
			if err != nil {
				return err
			}
			if st.Kind != ptrace.SignalStop || st.Sig != unix.SIGILL {
				return fmt.Errorf("UD2 loop: unexpected stop %v", st)
			}
			r, err := ptrace.GetRegs(p.Pid)
			if err != nil {
				return err
			}
			r.Rip += 2
			if err := ptrace.SetRegs(p.Pid, &r); err != nil {
				return err
			}
			if err := ptrace.Cont(p.Pid, 0); err != nil {
				return err
			}
		}
		elapsed = time.Since(start)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return elapsed
}

// reap kills a traced process and waits until it is gone.
func reap(p *ptrace.Process) {
	_ = p.Kill()
	for {
		st, err := ptrace.Wait(p.Pid)
		if err != nil || st.Kind == ptrace.Exited || st.Kind == ptrace.Killed {
			break
		}
	}
	p.Close()
}

// perOp returns (many − one) / n in nanoseconds: the cost of n more
// repetitions with the loading and process start cancelled out.
func perOp(many, one time.Duration, n int) float64 {
	return float64(many-one) / float64(n)
}

// fastest runs f k times and returns its shortest run.
func fastest(k int, f func() hostRun) hostRun {
	best := f()
	for i := 1; i < k; i++ {
		if r := f(); r.elapsed < best.elapsed {
			best = r
		}
	}
	return best
}

func wantRun(tb testing.TB, r hostRun, want string) {
	tb.Helper()
	if r.status != (ExitStatus{}) || r.out != want {
		tb.Fatalf("host status %+v output %q, want status 0 and %q", r.status, r.out, want)
	}
}

// BenchmarkEcallRoundTrip compares one emulated clean ecall (EENTER, then
// the enclave's EEXIT: two ENCLU stops) with one bare trap. The per-ecall
// cost is (time of a run with N+1 ecalls − time of a run with 1) / N.
func BenchmarkEcallRoundTrip(b *testing.B) {
	b.StopTimer()
	k := buildKit(b)
	blob, sig := k.writeSigned(b, b.TempDir(), conformEnclave{})
	tr := ptrace.NewTracer()
	defer tr.Close()
	ecalls := func(n int) hostRun {
		r := runHost(b, tr, []string{k.bench, blob, sig, "ecalls", strconv.Itoa(n)}, nil)
		wantRun(b, r, fmt.Sprintf("ecalls %d done\n", n))
		return r
	}
	n := b.N
	one := fastest(3, func() hostRun { return ecalls(1) })
	trap := float64(bareTraps(b, tr, k.ud2loop, n)) / float64(n)
	b.StartTimer()
	many := ecalls(n + 1)
	b.StopTimer()
	ecall := perOp(many.elapsed, one.elapsed, n)
	b.ReportMetric(ecall, "ns/ecall")
	b.ReportMetric(trap, "ns/trap")
	b.ReportMetric(ecall/trap, "x-baseline")
}

// BenchmarkAEXDelivery compares emulated AEXs with one bare trap:
//
//   - cycle: an INT3 in the enclave → AEX → SIGTRAP delivered to the host's
//     handler at the AEP → the handler returns → ERESUME (two stops), from
//     runs of bench's aexloop with N+1 and 1 AEXs.
//   - aex: the AEX part of that cycle alone, from the tracer's own event
//     times: from the ERESUME event (the enclave about to run again) to the
//     next AEX event (INT3 trapped, SSA frame written, synthetic state
//     loaded, the signal not yet delivered).
//   - sample: one repetition of the int3 sample (host --repeat N int3.elf
//     … 0): EENTER, AEX, the handler's EENTER and EEXIT, ERESUME, EEXIT.
//     Also reported per stop (stops/op counts the events of a repetition).
func BenchmarkAEXDelivery(b *testing.B) {
	k := buildKit(b)
	blob, sig := k.writeSigned(b, b.TempDir(), conformEnclave{})
	aexloop := func(b *testing.B, tr *ptrace.Tracer, n int) hostRun {
		r := runHost(b, tr, []string{k.bench, blob, sig, "aexloop", strconv.Itoa(n)}, nil)
		wantRun(b, r, "aexloop done\n")
		return r
	}
	b.Run("cycle", func(b *testing.B) {
		b.StopTimer()
		tr := ptrace.NewTracer()
		defer tr.Close()
		n := b.N
		one := fastest(3, func() hostRun { return aexloop(b, tr, 1) })
		trap := float64(bareTraps(b, tr, k.ud2loop, n)) / float64(n)
		b.StartTimer()
		many := aexloop(b, tr, n+1)
		b.StopTimer()
		cycle := perOp(many.elapsed, one.elapsed, n)
		b.ReportMetric(cycle, "ns/cycle")
		b.ReportMetric(trap, "ns/trap")
		b.ReportMetric(cycle/trap, "x-baseline")
	})
	b.Run("aex", func(b *testing.B) {
		b.StopTimer()
		tr := ptrace.NewTracer()
		defer tr.Close()
		n := b.N
		trap := float64(bareTraps(b, tr, k.ud2loop, n)) / float64(n)
		var aex time.Duration
		var last time.Time
		var lastKind EventKind
		count := 0
		b.StartTimer()
		r := runHost(b, tr, []string{k.bench, blob, sig, "aexloop", strconv.Itoa(n + 1)}, func(_ *Emulator, ev Event) {
			now := time.Now()
			if ev.Kind == EvAEX && lastKind == EvERESUME {
				aex += now.Sub(last)
				count++
			}
			last, lastKind = now, ev.Kind
		})
		b.StopTimer()
		wantRun(b, r, "aexloop done\n")
		if count != n {
			b.Fatalf("%d ERESUME→AEX pairs in %d AEXs", count, n+1)
		}
		per := float64(aex) / float64(n)
		b.ReportMetric(per, "ns/aex")
		b.ReportMetric(trap, "ns/trap")
		b.ReportMetric(per/trap, "x-baseline")
	})
	b.Run("sample", func(b *testing.B) {
		b.StopTimer()
		dir := fixtures.Samples(b)
		tr := ptrace.NewTracer()
		defer tr.Close()
		elf := filepath.Join(dir, "int3.elf")
		stops := 0
		int3 := func(n int) hostRun {
			stops = 0
			r := runHost(b, tr, []string{filepath.Join(dir, "host"), "--repeat", strconv.Itoa(n), elf, elf + ".sig", "0"}, func(_ *Emulator, ev Event) {
				switch ev.Kind {
				case EvEENTER, EvEEXIT, EvERESUME, EvAEX:
					stops++ // one ptrace stop each
				}
			})
			want := ""
			for i := 0; i < n; i++ {
				want += "ecall 0 returned 0x1\n"
			}
			wantRun(b, r, want)
			return r
		}
		n := b.N
		one := fastest(3, func() hostRun { return int3(1) })
		oneStops := stops
		trap := float64(bareTraps(b, tr, k.ud2loop, n)) / float64(n)
		b.StartTimer()
		many := int3(n + 1)
		b.StopTimer()
		rep := perOp(many.elapsed, one.elapsed, n)
		perRep := float64(stops-oneStops) / float64(n)
		b.ReportMetric(rep, "ns/cycle")
		b.ReportMetric(trap, "ns/trap")
		b.ReportMetric(perRep, "stops/op")
		b.ReportMetric(rep/trap, "x-baseline")
		b.ReportMetric(rep/(perRep*trap), "x-baseline-per-stop")
	})
}

// The 64 MiB enclave of bench's load64: 16384 measured RW pages whose
// 64-bit word i is i * 0x9E3779B97F4A7C15.
const (
	load64Size    = 64 << 20
	load64Pattern = 0x9E3779B97F4A7C15
)

func load64Contents() []byte {
	buf := make([]byte, load64Size)
	for i := 0; i < load64Size/8; i++ {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(i)*load64Pattern)
	}
	return buf
}

// BenchmarkLoad64MiB compares loading a 64 MiB enclave through the
// emulated driver (CREATE, ADD_PAGES with MEASURE for 16384 pages — EADD
// and 16 EEXTENDs each — then INIT, timed by the host from before its
// CREATE to after its INIT) with crypto/sha256 over the same 64 MiB. "one"
// passes all pages to one ADD_PAGES, as the Linux selftests' loader does
// per segment; "perpage" makes one ADD_PAGES per page. For reference it
// also reports the cost of copying the 64 MiB into a new memfd mapping, the
// floor for any emulator that backs the EPC with fresh memory (the driver
// copies into EPC pages that already exist).
func BenchmarkLoad64MiB(b *testing.B) {
	b.StopTimer()
	k := buildKit(b)
	data := load64Contents()
	flags := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
	m := sgx.NewMeasurement(load64Size, 1)
	for off := 0; off < load64Size; off += sgx.PageSize {
		if err := m.AddPage(uint64(off), flags, data[off:off+sgx.PageSize], true); err != nil {
			b.Fatal(err)
		}
	}
	s := sgx.NewSigStruct()
	s.EnclaveHash = m.Sum()
	s.Attributes = sgx.Attributes{Flags: sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 3}
	s.AttributeMask = sgx.Attributes{Flags: ^sgx.AttributeFlags(0), XFRM: ^uint64(0)}
	s.MiscSelect, s.MiscMask = 0, 0xffffffff
	sig := filepath.Join(b.TempDir(), "sig")
	k.sign(b, s, sig)
	for _, mode := range []struct {
		name  string
		calls int
	}{{"one", 1}, {"perpage", load64Size / sgx.PageSize}} {
		b.Run(mode.name, func(b *testing.B) {
			tr := ptrace.NewTracer()
			defer tr.Close()
			var load, hash, fresh time.Duration
			for i := 0; i < b.N; i++ {
				var events eventLog
				r := runHost(b, tr, []string{k.bench, "load64", sig, mode.name}, events.record)
				var calls int
				var ns int64
				if _, err := fmt.Sscanf(r.out, "load64 16384 pages in %d ADD_PAGES: %d ns\n", &calls, &ns); err != nil || calls != mode.calls || r.status != (ExitStatus{}) {
					b.Fatalf("host status %+v output %q (%v)", r.status, r.out, err)
				}
				if got := events.kinds(); got != "enclave-created pages-added enclave-initialized enclave-removed exit" && mode.calls == 1 {
					b.Fatalf("events %s", got)
				}
				load += time.Duration(ns)
				b.StopTimer()
				start := time.Now()
				sum := sha256.Sum256(data)
				hash += time.Since(start)
				fresh += freshCopy(b, data)
				b.StartTimer()
				if sum == [32]byte{} {
					b.Fatal("impossible SHA-256")
				}
			}
			b.ReportMetric(float64(load)/float64(b.N), "ns/load")
			b.ReportMetric(float64(hash)/float64(b.N), "ns/sha256")
			b.ReportMetric(float64(fresh)/float64(b.N), "ns/fresh-copy")
			b.ReportMetric(float64(load)/float64(hash), "x-baseline")
		})
	}
}

// freshCopy times copying data into a newly created and mapped memfd.
func freshCopy(tb testing.TB, data []byte) time.Duration {
	tb.Helper()
	fd, err := unix.MemfdCreate("sgxdbg-bench", unix.MFD_CLOEXEC)
	if err != nil {
		tb.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(len(data))); err != nil {
		tb.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, len(data), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		tb.Fatal(err)
	}
	defer unix.Munmap(mem)
	start := time.Now()
	copy(mem, data)
	return time.Since(start)
}
