package ptrace

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stopped is the wait status of a thread stopped by sig.
func stopped(sig unix.Signal) unix.WaitStatus { return unix.WaitStatus(int(sig)<<8 | 0x7f) }

// TestClassifyGetSiginfo: the PTRACE_GETSIGINFO outcome decides between a
// signal-delivery-stop, a group-stop (EINVAL, ptrace(2) "Group-stop") and
// a thread killed at its stop (ESRCH).
func TestClassifyGetSiginfo(t *testing.T) {
	info := Siginfo{Signo: int32(unix.SIGSTOP), Code: SIUser}
	tests := []struct {
		name    string
		err     error
		want    Status
		wantErr []error // what the error must match
	}{
		{"signal", nil, Status{Tid: 9, Kind: SignalStop, Sig: unix.SIGSTOP, Info: info}, nil},
		{"group stop", unix.EINVAL, Status{Tid: 9, Kind: GroupStop, Sig: unix.SIGSTOP}, nil},
		{"vanished", unix.ESRCH, Status{}, []error{ErrVanished, unix.ESRCH}},
		{"other", unix.EPERM, Status{}, []error{unix.EPERM}},
	}
	for _, tt := range tests {
		get := func(tid int) (Siginfo, error) {
			if tid != 9 {
				t.Errorf("GETSIGINFO of %d", tid)
			}
			if tt.err != nil {
				return Siginfo{}, tt.err
			}
			return info, nil
		}
		st, err := classify(9, stopped(unix.SIGSTOP), get)
		if st != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, st, tt.want)
		}
		if (err != nil) != (tt.wantErr != nil) {
			t.Errorf("%s: error %v", tt.name, err)
		}
		for _, w := range tt.wantErr {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v does not match %v", tt.name, err, w)
			}
		}
		if tt.name == "vanished" && err.Error() != "tid 9 stopped by SIGSTOP: thread vanished at its stop: no such process" {
			t.Errorf("vanished: %q", err)
		}
	}
}

func TestRestartable(t *testing.T) {
	for _, tt := range []struct {
		rax  int64
		want bool
	}{
		{-512, true}, {-513, true}, {-514, true}, {-516, true},
		{-515, false}, // ENOIOCTLCMD: not a restart
		{-4, false},   // EINTR is the caller's business
		{0, false}, {512, false}, {-1, false},
	} {
		if got := restartable(uint64(tt.rax)); got != tt.want {
			t.Errorf("restartable(%d) = %v", tt.rax, got)
		}
	}
}

// sigqueue sends sig to pid with si_code SI_QUEUE and value, as
// sigqueue(3) does.
func sigqueue(pid int, sig unix.Signal, value uint64) error {
	si := Siginfo{Signo: int32(sig), Code: -1 /* SI_QUEUE */, Addr: uint64(uint32(os.Getpid())) | uint64(os.Getuid())<<32}
	*(*uint64)(unsafe.Pointer(&si.Rest[0])) = value
	_, _, e := unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(pid), uintptr(sig), uintptr(unsafe.Pointer(&si)))
	if e != 0 {
		return e
	}
	return nil
}

// TestInjectDefersSignals: signals that reach a thread while an injected
// system call runs are not lost and keep their siginfo: a sigqueue()
// SIGUSR1 (re-queued with rt_tgsigqueueinfo) and a SIGUSR2 from kill(1)
// (SI_USER from another process: re-sent with tgkill and put back by
// Requeued). The injected nanosleep, interrupted by them, still returns
// 0 (the kernel or InjectSyscall restarts it).
func TestInjectDefersSignals(t *testing.T) {
	bin := buildC(t, "spin", `int main(void){for(;;);}`)
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Close()
		defer p.Kill()
		scratch, err := p.MapScratch(p.Pid, 0)
		if err != nil {
			return err
		}
		// Both signals are pending before the injection starts: the
		// thread takes them at its first resume, inside InjectSyscall.
		if err := sigqueue(p.Pid, unix.SIGUSR1, 0x5eed); err != nil {
			return err
		}
		kill := exec.Command("kill", "-USR2", strconv.Itoa(p.Pid))
		if err := kill.Run(); err != nil {
			return err
		}
		// A third arrives during the sleep, if the machine is not too slow
		// (either way it must come through with its siginfo).
		go func() {
			time.Sleep(100 * time.Millisecond)
			_ = sigqueue(p.Pid, sigRTMin, 0xfeed)
		}()
		ts := scratch + ScratchData
		if _, err := p.WriteMemory([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0x65, 0xcd, 0x1d, 0, 0, 0, 0}, ts); err != nil { // 0.5 s
			return err
		}
		rax, err := p.InjectSyscall(p.Pid, scratch+ScratchSyscall, unix.SYS_NANOSLEEP, ts, 0)
		if err != nil || rax != 0 {
			t.Errorf("injected nanosleep: %#x, %v", rax, err)
		}
		// SIGUSR1 went back through rt_tgsigqueueinfo; SIGUSR2 through
		// tgkill, waiting for Requeued.
		if q := p.requeued[p.Pid]; len(q) != 1 || q[0].Signo != int32(unix.SIGUSR2) || q[0].Code != SIUser {
			t.Errorf("waiting for Requeued: %+v, want SIGUSR2 SI_USER alone", q)
		}
		got := map[unix.Signal]Siginfo{}
		for len(got) < 3 {
			if err := Cont(p.Pid, 0); err != nil {
				return err
			}
			st, err := Wait(p.Pid)
			if err != nil {
				return err
			}
			if st.Kind != SignalStop {
				t.Fatalf("stop %v", st)
			}
			if _, err := p.Requeued(&st); err != nil {
				return err
			}
			// What the kernel now holds, not only st.Info.
			si, err := GetSiginfo(p.Pid)
			if err != nil {
				return err
			}
			if si != st.Info {
				t.Errorf("%v: the stop's siginfo %+v, Status.Info %+v", st.Sig, si, st.Info)
			}
			got[st.Sig] = si
		}
		value := func(si Siginfo) uint64 { return *(*uint64)(unsafe.Pointer(&si.Rest[0])) }
		if si := got[unix.SIGUSR1]; si.Code != -1 || si.Pid() != os.Getpid() || value(si) != 0x5eed {
			t.Errorf("SIGUSR1: code %d pid %d value %#x, want SI_QUEUE from %d with 0x5eed", si.Code, si.Pid(), value(si), os.Getpid())
		}
		if si := got[unix.SIGUSR2]; si.Code != SIUser || si.Pid() != kill.Process.Pid {
			t.Errorf("SIGUSR2: code %d pid %d, want SI_USER from kill(1), pid %d", si.Code, si.Pid(), kill.Process.Pid)
		}
		if si := got[sigRTMin]; si.Code != -1 || value(si) != 0xfeed {
			t.Errorf("SIGRTMIN: code %d value %#x, want SI_QUEUE with 0xfeed", si.Code, value(si))
		}
		if len(p.requeued) != 0 {
			t.Errorf("left to requeue: %v", p.requeued)
		}
		return nil
	})
}

// TestExaminable: a stopped tracee answers ptrace requests; once killed
// it does not, and its memory reads fail (what Emulator.Wait takes for a
// dying thread) before its exit status arrives.
func TestExaminable(t *testing.T) {
	bin := buildC(t, "spin2", `int main(void){for(;;);}`)
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Close()
		if !Examinable(p.Pid) {
			t.Error("a stopped tracee is not examinable")
		}
		r, err := GetRegs(p.Pid)
		if err != nil {
			return err
		}
		if err := unix.Kill(p.Pid, unix.SIGKILL); err != nil {
			return err
		}
		if Examinable(p.Pid) {
			t.Error("a killed tracee is still examinable")
		}
		st, err := Wait(p.Pid)
		if err != nil {
			return err
		}
		if st.Kind != Killed || st.Sig != unix.SIGKILL {
			t.Errorf("%v, want killed by SIGKILL", st)
		}
		var b [8]byte
		// The address space is gone: /proc/PID/mem gives no bytes.
		if _, err := p.ReadMemory(b[:], r.Rip); !errors.Is(err, io.EOF) {
			t.Errorf("memory of a dead tracee: %v, want EOF", err)
		}
		return nil
	})
}

// sigRTMin is the first real-time signal free for programs (glibc keeps
// 32 and 33).
const sigRTMin = unix.Signal(34)

// restartSrc has a stand-in for the injected `syscall; int3` at site: a
// short jump to code that returns -ERESTARTNOHAND the first two times it
// runs, then 42, counting its runs in counter, and ends at site's int3.
const restartSrc = `long counter;
int main(void) { for (;;); }
__asm__(".text\n.globl site\nsite:\n jmp 1f\n int3\n"
	"1:\n mov counter(%rip), %rax\n incq counter(%rip)\n cmp $2, %rax\n jae 2f\n"
	" mov $-514, %rax\n jmp site+2\n"
	"2:\n mov $42, %rax\n jmp site+2\n");
`

// TestInjectRestarts: a call that ends with ERESTART* at the int3 is
// issued again until it returns something else.
func TestInjectRestarts(t *testing.T) {
	dir := t.TempDir()
	src, bin := dir+"/restart.c", dir+"/restart"
	if err := os.WriteFile(src, []byte(restartSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O1", "-no-pie", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	sym := func(name string) uint64 {
		out, err := exec.Command("nm", bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[2] == name {
				v, err := strconv.ParseUint(f[0], 16, 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
		t.Fatalf("no %s in nm %s", name, bin)
		return 0
	}
	site, counter := sym("site"), sym("counter")
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: bin, Args: []string{bin}})
		if err != nil {
			return err
		}
		defer p.Close()
		defer p.Kill()
		before, err := GetRegs(p.Pid)
		if err != nil {
			return err
		}
		rax, err := p.InjectSyscall(p.Pid, site, unix.SYS_GETPID)
		if err != nil || rax != 42 {
			t.Errorf("injected call: %d, %v; want 42 on the third run", rax, err)
		}
		var b [8]byte
		if _, err := p.ReadMemory(b[:], counter); err != nil {
			return err
		}
		if n := binary.LittleEndian.Uint64(b[:]); n != 3 {
			t.Errorf("the call ran %d times, want 3", n)
		}
		after, err := GetRegs(p.Pid)
		if err != nil {
			return err
		}
		if after != before {
			t.Errorf("registers not restored:\n%+v\n%+v", before, after)
		}
		return nil
	})
}
