package ptrace

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// buildC compiles a small C program for a test.
func buildC(t testing.TB, name, src string) string {
	t.Helper()
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("gcc", "-O1", "-o", bin, c).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// run executes f on a fresh tracer.
func run(t testing.TB, f func() error) {
	t.Helper()
	tr := NewTracer()
	defer tr.Close()
	if err := tr.Do(f); err != nil {
		t.Fatal(err)
	}
}

func TestLaunchExitStatus(t *testing.T) {
	bin := buildC(t, "exit7", `int main(void){return 7;}`)
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Close()
		if err := Cont(p.Pid, 0); err != nil {
			return err
		}
		st, err := Wait(p.Pid)
		if err != nil {
			return err
		}
		if st.Kind != Exited || st.Code != 7 {
			t.Errorf("got %v, want exit status 7", st)
		}
		return nil
	})
}

func TestLaunchMissingProgram(t *testing.T) {
	run(t, func() error {
		_, err := Launch(LaunchOptions{Path: "/nonexistent/prog", Args: []string{"prog"}})
		if err == nil || !os.IsNotExist(unwrapAll(err)) {
			t.Errorf("got %v, want a not-exist error", err)
		}
		return nil
	})
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}

// A seccomp filter that traces getppid: the tracer answers 42 without
// running it, three times, and the program exits with the sum.
func TestSeccompSkipAndInject(t *testing.T) {
	bin := buildC(t, "ppid", `#include <unistd.h>
int main(void){ long s = 0; for (int i = 0; i < 3; i++) s += getppid(); return s == 126 ? 0 : 1; }`)
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_GETPPID, Jt: 0, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_TRACE},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Close()
		scratch, err := p.MapScratch(p.Pid, 0)
		if err != nil {
			return err
		}
		// An injected getpid returns the tracee's pid.
		pid, err := p.InjectSyscall(p.Pid, scratch+ScratchSyscall, unix.SYS_GETPID)
		if err != nil {
			return err
		}
		if int(pid) != p.Pid {
			t.Errorf("injected getpid = %d, want %d", pid, p.Pid)
		}
		if err := p.InstallSeccomp(p.Pid, scratch, filter); err != nil {
			return err
		}
		events := 0
		if err := Cont(p.Pid, 0); err != nil {
			return err
		}
		for {
			st, err := Wait(p.Pid)
			if err != nil {
				return err
			}
			switch st.Kind {
			case Exited:
				if st.Code != 0 || events != 3 {
					t.Errorf("exit %d after %d seccomp events, want 0 after 3", st.Code, events)
				}
				return nil
			case EventStop:
				if st.Event == unix.PTRACE_EVENT_SECCOMP {
					events++
					r, err := GetRegs(p.Pid)
					if err != nil {
						return err
					}
					if r.Orig_rax != unix.SYS_GETPPID {
						t.Errorf("seccomp stop for syscall %d", r.Orig_rax)
					}
					r.Orig_rax = ^uint64(0)
					r.Rax = 42
					if err := SetRegs(p.Pid, &r); err != nil {
						return err
					}
				}
				err = Cont(p.Pid, 0)
			case SignalStop:
				err = Cont(p.Pid, st.Sig)
			default:
				err = Cont(p.Pid, 0)
			}
			if err != nil {
				return err
			}
		}
	})
}

func TestXStateRoundTrip(t *testing.T) {
	bin := buildC(t, "spin", `int main(void){ for(;;) __asm__ volatile("ud2"); }`)
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Kill()
		if err := Cont(p.Pid, 0); err != nil {
			return err
		}
		st, err := Wait(p.Pid)
		if err != nil {
			return err
		}
		if st.Kind != SignalStop || st.Sig != unix.SIGILL {
			t.Fatalf("got %v, want SIGILL", st)
		}
		si, err := GetSiginfo(p.Pid)
		if err != nil {
			return err
		}
		r, _ := GetRegs(p.Pid)
		if si.Code != IllIllOpn || si.Addr != r.Rip {
			t.Errorf("siginfo code %d addr %#x, want ILL_ILLOPN at %#x", si.Code, si.Addr, r.Rip)
		}
		buf := make([]byte, 4096)
		xs, err := GetXState(p.Pid, buf)
		if err != nil {
			return err
		}
		if len(xs) < 576 {
			t.Fatalf("xstate of %d bytes", len(xs))
		}
		xs[160] = 0x5a // XMM0 byte 0
		xs[512] |= 2   // XSTATE_BV.SSE
		if err := SetXState(p.Pid, xs); err != nil {
			return err
		}
		again, err := GetXState(p.Pid, make([]byte, 4096))
		if err != nil {
			return err
		}
		if again[160] != 0x5a {
			t.Errorf("XMM0 byte 0 = %#x after SETREGSET, want 0x5a", again[160])
		}
		return nil
	})
}

// BenchmarkTrapRoundTrip is the baseline for the emulator's costs: a
// tracee executes UD2, the tracer takes the SIGILL stop, advances RIP past
// it and resumes.
func BenchmarkTrapRoundTrip(b *testing.B) {
	bin := buildC(b, "ud2loop", `int main(void){ for(;;) __asm__ volatile("ud2"); }`)
	run(b, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Kill()
		if err := Cont(p.Pid, 0); err != nil {
			return err
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			st, err := Wait(p.Pid)
			if err != nil {
				return err
			}
			if st.Kind != SignalStop || st.Sig != unix.SIGILL {
				b.Fatalf("got %v", st)
			}
			r, err := GetRegs(p.Pid)
			if err != nil {
				return err
			}
			r.Rip += 2
			if err := SetRegs(p.Pid, &r); err != nil {
				return err
			}
			if err := Cont(p.Pid, 0); err != nil {
				return err
			}
		}
		return nil
	})
}
