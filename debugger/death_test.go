package debugger_test

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// TestHostDiesAtStop: the host is killed from outside while one of its
// two threads is held at its #BP stop. HostDead sees it without a Wait;
// each command then answers a HostDiedError (code "exited") instead of a
// raw ptrace error, the first one reaps the host, and Wait reports the
// end as SIGKILL, status 137.
func TestHostDiesAtStop(t *testing.T) {
	for _, cmd := range []string{"regs", "ssa", "continue", "eresume", "eenter-handler", "info threads"} {
		t.Run(cmd, func(t *testing.T) {
			r := start(t, debugger.Policy{}, []string{"--threads", "2", "--repeat", "1000000"}, "threads", "0")
			ev := r.stop()
			if ev.Kind != target.EvAEX {
				t.Fatalf("stopped at %s", ev)
			}
			pid := r.pid()
			if r.s.HostDead() {
				t.Fatal("HostDead before the kill")
			}
			if err := unix.Kill(pid, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// Bounded: the kernel needs a moment to end the threads.
			for i := 0; !r.s.HostDead(); i++ {
				if i == 10000 {
					t.Fatal("HostDead never saw the kill")
				}
				time.Sleep(time.Millisecond)
			}
			var err error
			r.noHang(cmd, func() { _, err = r.s.Exec(cmd) })
			var hd *debugger.HostDiedError
			switch {
			case errors.As(err, &hd):
				if want := cmd + ": the host was killed by SIGKILL"; hd.Error() != want || hd.Status != (target.ExitStatus{Signal: unix.SIGKILL}) {
					t.Errorf("error %q, status %+v; want %q", hd.Error(), hd.Status, want)
				}
				if debugger.Code(err) != debugger.CodeExited {
					t.Errorf("code %s", debugger.Code(err))
				}
			case err == nil && (cmd == "info threads" || cmd == "ssa"):
				// Read from the emulator's own state (the EPC memfd, its
				// thread table): no error to
				// give; the host's end comes with the next Wait.
			default:
				t.Fatalf("%s after the kill: %v, want a HostDiedError", cmd, err)
			}
			st, err := r.wait()
			if err != nil || !st.Exited || st.Status != 137 || st.End != (target.ExitStatus{Signal: unix.SIGKILL}) {
				t.Fatalf("wait: %+v, %v; want the end, killed by SIGKILL", st, err)
			}
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
				t.Errorf("host %d still exists (not reaped)", pid)
			}
			evs := r.s.Timeline()
			if last := evs[len(evs)-1]; last.Kind != target.EvExit || last.Killed != unix.SIGKILL || last.Status != 137 {
				t.Errorf("last event %s", last)
			}
		})
	}
}
