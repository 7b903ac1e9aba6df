package debugger

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/outputfile"
)

// DumpRequest is what the dump command hands a Dumper: the stop to read
// (on the backend's goroutine), the timeline so far and the enclave images
// the session matched.
type DumpRequest struct {
	Stop     target.Stop
	Timeline []target.Event
	Images   map[uint64]DumpImage // by enclave base
}

// DumpImage is the enclave ELF matched to an enclave.
type DumpImage struct {
	Path  string // absolute
	Entry uint64 // its ELF entry point, an offset from the enclave base
}

// DumpStats is what a Dumper wrote.
type DumpStats struct {
	Bytes    int64
	Enclaves int
	Pages    int
	Threads  int    // TCS with SSA frames in use (NT_PRSTATUS notes)
	Main     uint64 // base of the enclave a debugger relocates the ELF to (0: none)
}

// Dumper writes a core file of a stopped host to w. The command line
// wires in the core-file writer (package coredump), so that this package
// needs no file format.
type Dumper func(w io.Writer, req DumpRequest) (DumpStats, error)

// ErrNoDumper is returned by dump in a session without a Dumper.
var ErrNoDumper = errors.New("this session cannot write core files")

// CoreFileMode is the mode of core files: enclave memory holds secrets.
const CoreFileMode = 0o600

// DumpResult reports a core file written.
type DumpResult struct {
	File     string `json:"file"`
	Pid      int    `json:"pid"`
	Bytes    int64  `json:"bytes"`
	Enclaves int    `json:"enclaves"`
	Pages    int    `json:"pages"`
	Threads  int    `json:"threads"`
	// Image is the enclave ELF gdb needs, when the session matched one.
	Image string `json:"image,omitempty"`
	// GDB is a command line that opens the core in gdb.
	GDB string `json:"gdb,omitempty"`
}

// Text says where the core went and how to open it.
func (r *DumpResult) Text() string {
	s := fmt.Sprintf("wrote %s: %d bytes, %d enclave pages of %d enclave(s), %d TCS with SSA frames in use\n  open it with: sgxdbg core %s",
		r.File, r.Bytes, r.Pages, r.Enclaves, r.Threads, shellQuote(r.File))
	if r.GDB != "" {
		s += "\n  or with gdb:  " + r.GDB
	}
	return s
}

// GDBCommand is the gdb command line that opens core with the enclave ELF
// image: the core's NT_AUXV AT_ENTRY makes gdb relocate the ELF (linked
// at 0) to the enclave's base.
func GDBCommand(image, core string) string {
	if image == "" {
		return ""
	}
	return "gdb " + shellQuote(image) + " " + shellQuote(core)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+=:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CoreFileName is the default name of the nth core file of process pid.
func CoreFileName(pid, n int) string { return fmt.Sprintf("sgxdbg-%d-%d.core", pid, n) }

// CreateCoreFile creates the first sgxdbg-PID-N.core (N = 1, 2, …) that
// does not exist in dir, with mode 0600 (outputfile's rules: a name taken
// by anything, a link included, is skipped).
func CreateCoreFile(dir string, pid int) (*outputfile.File, error) {
	for n := 1; ; n++ {
		f, err := outputfile.Create(filepath.Join(dir, CoreFileName(pid, n)), outputfile.Options{Mode: CoreFileMode})
		var oe *outputfile.Error
		if errors.As(err, &oe) || errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
}

func cmdDump(s *Session, args []string) (Result, error) {
	force := len(args) > 0 && args[0] == "--force"
	if force {
		args = args[1:]
	}
	if len(args) > 1 || len(args) == 1 && strings.HasPrefix(args[0], "-") {
		return nil, usage("dump [--force] [FILE]")
	}
	if s.opts.Dumper == nil {
		return nil, ErrNoDumper
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		req := DumpRequest{Stop: st, Timeline: s.Timeline(), Images: map[uint64]DumpImage{}}
		for _, e := range st.Enclaves() {
			if im := s.Image(e.Base); im != nil && im.Path != "" {
				req.Images[e.Base] = dumpImage(im.Path)
			}
		}
		var f *outputfile.File
		var err error
		if len(args) == 1 {
			f, err = outputfile.Create(args[0], outputfile.Options{Mode: CoreFileMode, Force: force})
		} else {
			f, err = CreateCoreFile(".", stopPid(st))
		}
		if err != nil {
			return nil, fmt.Errorf("dump: %w", err)
		}
		stats, err := s.opts.Dumper(f, req)
		if err != nil {
			f.Abort()
			return nil, fmt.Errorf("dump: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("dump: %w", err)
		}
		name := f.Name()
		r := &DumpResult{File: name, Pid: stopPid(st), Bytes: stats.Bytes, Enclaves: stats.Enclaves, Pages: stats.Pages, Threads: stats.Threads}
		if img, ok := req.Images[stats.Main]; ok {
			r.Image = img.Path
			r.GDB = GDBCommand(img.Path, name)
		}
		return r, nil
	})
}

// dumpImage makes path absolute (the core outlives the working directory)
// and reads the ELF's entry point.
func dumpImage(path string) DumpImage {
	img := DumpImage{Path: path}
	if abs, err := filepath.Abs(path); err == nil {
		img.Path = abs
	}
	if f, err := elf.Open(path); err == nil {
		img.Entry = f.Entry
		f.Close()
	}
	return img
}

// stopPid is the host's process id at a stop.
func stopPid(st target.Stop) int {
	ev := st.Event()
	for _, th := range st.Threads() {
		if th.Tid == ev.Tid {
			return th.Pid
		}
	}
	if encls := st.Enclaves(); len(encls) > 0 {
		return encls[0].Pid
	}
	return ev.Pid
}
