package emu

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// scratchMapsName is where the memfd name for a served maps file is.
const scratchMapsName = 0xf20 // "maps"

// mapsTarget returns the traced process whose maps file p (absolute,
// clean) names, seen from process pr: /proc/self/maps,
// /proc/thread-self/maps, /proc/PID/maps or /proc/PID/task/TID/maps. It
// returns nil for any other path, and for processes with no enclave (their
// maps need no rewriting).
func (em *Emulator) mapsTarget(pr *process, p string) *process {
	parts := strings.Split(strings.TrimPrefix(p, "/proc/"), "/")
	if !strings.HasPrefix(p, "/proc/") || parts[len(parts)-1] != "maps" {
		return nil
	}
	var who string
	switch {
	case len(parts) == 2:
		who = parts[0]
	case len(parts) == 4 && parts[1] == "task":
		if _, err := strconv.Atoi(parts[2]); err != nil {
			return nil
		}
		who = parts[0]
	default:
		return nil
	}
	pid := pr.pid
	if who != "self" && who != "thread-self" {
		n, err := strconv.Atoi(who)
		if err != nil {
			return nil
		}
		pid = n
		if th := em.threads[n]; th != nil {
			pid = th.proc.pid // a thread id names its process's maps
		}
	}
	target := em.procs[pid]
	if target == nil || len(target.enclaves) == 0 {
		return nil
	}
	return target
}

// serveMaps turns an open of a maps file into memfd_create and, once the
// descriptor exists, fills it with the target's maps as the SGX driver
// would show them (rewriteMaps). The copy is taken at open time; the
// kernel's file is generated as it is read.
func (em *Emulator) serveMaps(th *thread, r *ptrace.Regs, target *process, flags uint64) error {
	pr := th.proc
	return em.openAsMemfd(th, r, pr.scratch+scratchMapsName, flags, func(fd int) error {
		text, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", target.pid))
		if err != nil {
			return fmt.Errorf("read the maps of %d: %w", target.pid, err)
		}
		f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/%d", pr.pid, fd), os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("fill the maps copy of %d: %w", pr.pid, err)
		}
		defer f.Close()
		_, err = f.Write([]byte(em.rewriteMaps(target, string(text))))
		return err
	})
}

// mapsLine is one line of a maps file.
type mapsLine struct {
	start, end uint64
	perms      string
	offset     uint64
	dev        string
	inode      uint64
	path       string
}

func parseMapsLine(s string) (mapsLine, bool) {
	var l mapsLine
	f := strings.Fields(s)
	if len(f) < 5 {
		return l, false
	}
	if _, err := fmt.Sscanf(f[0], "%x-%x", &l.start, &l.end); err != nil {
		return l, false
	}
	off, err1 := strconv.ParseUint(f[2], 16, 64)
	ino, err2 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || len(f[1]) != 4 {
		return l, false
	}
	l.perms, l.offset, l.dev, l.inode = f[1], off, f[3], ino
	// The path is everything after the inode column (it may hold spaces).
	rest := s
	for i := 0; i < 5; i++ {
		rest = strings.TrimLeft(rest, " ")
		rest = rest[strings.IndexByte(rest+" ", ' '):]
	}
	l.path = strings.TrimLeft(rest, " ")
	return l, true
}

// String formats the line as the kernel does (fs/proc/task_mmu.c: a space
// after the inode, then the path, if any, padded to start at column 74).
func (l mapsLine) String() string {
	s := fmt.Sprintf("%08x-%08x %s %08x %s %d ", l.start, l.end, l.perms, l.offset, l.dev, l.inode)
	if l.path == "" {
		return s
	}
	if len(s) < 73 {
		s += strings.Repeat(" ", 73-len(s))
	}
	return s + l.path
}

// rewriteMaps shows target's enclave mappings as the driver's: named
// /dev/sgx_enclave with the device node's device and inode, offset 0 (the
// driver ignores the offset; the emulator's memfd needs one), and each
// page with the protection the host gave it (the emulator keeps pages
// inaccessible until their first touch). Other lines are left alone.
func (em *Emulator) rewriteMaps(target *process, text string) string {
	inodes := map[uint64]*enclave{}
	for _, e := range target.enclaves {
		if e.file == nil {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(int(e.file.Fd()), &st) == nil {
			inodes[st.Ino] = e
		}
	}
	dev := "00:00"
	var st unix.Stat_t
	if unix.Stat("/dev/null", &st) == nil {
		dev = fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev))
	}
	var out []string
	for _, s := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		l, ok := parseMapsLine(s)
		e := inodes[l.inode]
		if !ok || e == nil || !strings.HasPrefix(l.path, "/memfd:sgx_enclave") {
			out = append(out, s)
			continue
		}
		for _, part := range e.hostView(l) {
			part.offset, part.dev, part.inode, part.path = 0, dev, nodeIno(&devNodes[0]), DevicePath
			if n := len(out); n > 0 {
				// Merge with the previous enclave line when nothing differs.
				if prev, ok := parseMapsLine(out[n-1]); ok && prev.end == part.start && prev.perms == part.perms &&
					prev.path == part.path && prev.inode == part.inode && prev.dev == part.dev {
					prev.end = part.end
					out[n-1] = prev.String()
					continue
				}
			}
			out = append(out, part.String())
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// hostView splits a memfd mapping line into runs of pages with the same
// protection as the host set it.
func (e *enclave) hostView(l mapsLine) []mapsLine {
	var runs []mapsLine
	for a := l.start; a < l.end; a += sgx.PageSize {
		perms := l.perms
		if p := e.page(a); p != nil && p.mapped {
			perms = protString(p.prot) + l.perms[3:]
		} else if mp, ok := e.mapProt(a); ok {
			perms = protString(mp) + l.perms[3:] // no page yet (SGX2 EAUGs it on a fault)
		}
		if n := len(runs); n > 0 && runs[n-1].perms == perms {
			runs[n-1].end = a + sgx.PageSize
			continue
		}
		r := l
		r.start, r.end, r.perms = a, a+sgx.PageSize, perms
		runs = append(runs, r)
	}
	return runs
}

func protString(prot int) string {
	b := []byte("---")
	if prot&unix.PROT_READ != 0 {
		b[0] = 'r'
	}
	if prot&unix.PROT_WRITE != 0 {
		b[1] = 'w'
	}
	if prot&unix.PROT_EXEC != 0 {
		b[2] = 'x'
	}
	return string(b)
}
