package debugger_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestLongRunTimeline runs the int3 sample 3000 times (one #BP AEX per
// call, 18 000 transitions) stopping at every AEX: the session counts
// every event, keeps the first TimelineHead and the last TimelineWindow,
// and a core file taken at the last stop gets those, not the whole run.
func TestLongRunTimeline(t *testing.T) {
	const calls = 3000
	dir := fixtures.Samples(t)
	host, elf := filepath.Join(dir, "host"), filepath.Join(dir, "int3.elf")
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var dumped []int
	dumper := func(_ io.Writer, req debugger.DumpRequest) (debugger.DumpStats, error) {
		dumped = append(dumped, len(req.Timeline))
		return debugger.DumpStats{}, nil
	}
	argv := []string{host, "--no-vdso", "--repeat", "3000", elf, elf + ".sig", "0"}
	s, err := debugger.Launch(emu.Backend, target.LaunchOptions{Path: host, Args: argv, Files: []*os.File{null, null, null}},
		debugger.Options{Dumper: dumper})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stops := 0
	for {
		st, err := s.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if st.Exited {
			if st.Status != 0 {
				t.Fatalf("host exited with %d", st.Status)
			}
			break
		}
		if stops++; stops == calls {
			if _, err := s.Exec("dump " + filepath.Join(t.TempDir(), "last.core")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if stops != calls {
		t.Fatalf("%d stops, want %d", stops, calls)
	}
	kept := debugger.TimelineHead + debugger.TimelineWindow
	if len(dumped) != 1 || dumped[0] != kept {
		t.Errorf("the core got %v events, want %d", dumped, kept)
	}
	st := s.TimelineStats()
	// Each call: EENTER, the #BP AEX, the handler's EENTER and EEXIT,
	// ERESUME, the ecall's EEXIT.
	for k, n := range map[target.EventKind]int{target.EvAEX: calls, target.EvERESUME: calls, target.EvEENTER: 2 * calls, target.EvEEXIT: 2 * calls} {
		if st.Counts[k] != n {
			t.Errorf("%d %s events, want %d", st.Counts[k], k, n)
		}
	}
	for _, k := range []target.EventKind{target.EvEnclaveCreated, target.EvEnclaveInitialized, target.EvEnclaveRemoved, target.EvExit} {
		if st.Counts[k] != 1 {
			t.Errorf("%d %s events, want 1", st.Counts[k], k)
		}
	}
	if st.Dropped != st.Total-kept {
		t.Errorf("dropped %d of %d, want %d", st.Dropped, st.Total, st.Total-kept)
	}
	evs := s.Timeline()
	if len(evs) != kept || evs[0].Kind != target.EvEnclaveCreated || evs[len(evs)-1].Kind != target.EvExit {
		t.Errorf("timeline of %d events from %s to %s", len(evs), evs[0].Kind, evs[len(evs)-1].Kind)
	}
}
