package emu

import (
	"encoding/binary"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
)

// ProvisionPath is the SGX driver's provisioning device: an fd of it,
// passed to SGX_IOC_ENCLAVE_PROVISION, allows ATTRIBUTES.PROVISIONKEY.
const ProvisionPath = "/dev/sgx_provision"

// The device nodes as the kernel shows them. The driver registers both as
// misc devices (major 10) with dynamic minors (arch/x86/kernel/cpu/sgx/
// driver.c, sgx_drv_init: sgx_enclave first, then sgx_provision); misc
// hands dynamic minors out downwards, so the numbers depend on what
// registered before. 125 and 124 are what a kernel gives them after two
// earlier dynamic misc devices; programs must not rely on them. The mode is
// 0666 and the owner root:root, as systemd's udev rules leave sgx_enclave
// (sgx_provision is also shown 0666 so that the host, which runs as you,
// may open it, as the emulator lets it).
const (
	miscMajor      = 10
	enclaveMinor   = 125
	provisionMinor = 124
	devNodeMode    = unix.S_IFCHR | 0o666
)

// devNode is one emulated device node.
type devNode struct {
	path  string
	minor uint32
}

// Names the emulator writes on the scratch page for memfd_create.
const (
	scratchEnclaveName   = 0xf00 // "sgx_enclave"
	scratchProvisionName = 0xf10 // "sgx_provision"
)

// putScratchNames writes the memfd names onto a process's scratch page.
func putScratchNames(pr *process) error {
	names := map[uint64]string{scratchEnclaveName: "sgx_enclave", scratchProvisionName: "sgx_provision", scratchMapsName: "maps"}
	for off, name := range names {
		if _, err := pr.mem.WriteMemory(append([]byte(name), 0), pr.scratch+off); err != nil {
			return fmt.Errorf("write memfd names on the scratch page: %w", err)
		}
	}
	return nil
}

var devNodes = []devNode{{DevicePath, enclaveMinor}, {ProvisionPath, provisionMinor}}

func nodeByPath(p string) *devNode {
	for i := range devNodes {
		if devNodes[i].path == p {
			return &devNodes[i]
		}
	}
	return nil
}

// fdNode returns the device an emulated file descriptor stands for.
func (pr *process) fdNode(fd int) *devNode {
	switch {
	case pr.fds[fd] != nil:
		return &devNodes[0]
	case pr.prov[fd]:
		return &devNodes[1]
	}
	return nil
}

// resolvePath makes a system call's path argument absolute and clean, as
// the kernel would resolve it for thread tid from dirfd (AT_FDCWD: the
// working directory), without following symbolic links. ok is false when
// it cannot tell.
func resolvePath(tid int, dirfd int32, p string) (string, bool) {
	if p == "" {
		return "", false
	}
	if !strings.HasPrefix(p, "/") {
		link := fmt.Sprintf("/proc/%d/cwd", tid)
		if dirfd != unix.AT_FDCWD {
			link = fmt.Sprintf("/proc/%d/fd/%d", tid, dirfd)
		}
		dir, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(dir, "/") {
			return "", false
		}
		p = dir + "/" + p
	}
	return path.Clean(p), true
}

// pathNode reads a path argument and returns the device node it names.
func (em *Emulator) pathNode(th *thread, dirfd int32, addr uint64) *devNode {
	p, err := readString(th.proc.mem, addr, unix.PathMax)
	if err != nil {
		return nil
	}
	abs, ok := resolvePath(th.tid, dirfd, p)
	if !ok {
		return nil
	}
	return nodeByPath(abs)
}

// sysStat answers stat, lstat, fstat, newfstatat, statx, access, faccessat
// and faccessat2 that name an emulated device (by path, or by an emulated
// file descriptor) as for the real character device. Others run natively.
func (em *Emulator) sysStat(th *thread, r *ptrace.Regs) error {
	pr := th.proc
	var n *devNode
	switch r.Orig_rax {
	case unix.SYS_STAT, unix.SYS_LSTAT:
		if n = em.pathNode(th, unix.AT_FDCWD, r.Rdi); n != nil {
			return em.answer(th, r, em.putStat(pr, n, r.Rsi))
		}
	case unix.SYS_FSTAT:
		if n = pr.fdNode(int(int32(r.Rdi))); n != nil {
			return em.answer(th, r, em.putStat(pr, n, r.Rsi))
		}
	case unix.SYS_NEWFSTATAT:
		if n = em.atNode(th, r.Rdi, r.Rsi, r.R10); n != nil {
			return em.answer(th, r, em.putStat(pr, n, r.Rdx))
		}
	case unix.SYS_STATX:
		if n = em.atNode(th, r.Rdi, r.Rsi, r.Rdx); n != nil {
			return em.answer(th, r, em.putStatx(pr, n, int(r.Rdx), int(r.R10), r.R8))
		}
	case unix.SYS_ACCESS:
		if n = em.pathNode(th, unix.AT_FDCWD, r.Rdi); n != nil {
			return em.answer(th, r, accessAnswer(r.Rsi))
		}
	case unix.SYS_FACCESSAT, unix.SYS_FACCESSAT2:
		flags := uint64(0)
		if r.Orig_rax == unix.SYS_FACCESSAT2 {
			flags = r.R10
		}
		if n = em.atNode(th, r.Rdi, r.Rsi, flags); n != nil {
			return em.answer(th, r, accessAnswer(r.Rdx))
		}
	}
	return em.resume(th, 0)
}

// atNode is the device a *at call names: the file descriptor itself with
// AT_EMPTY_PATH and an empty path, else the path from dirfd.
func (em *Emulator) atNode(th *thread, dirfd, pathAddr, flags uint64) *devNode {
	if flags&unix.AT_EMPTY_PATH != 0 {
		if p, err := readString(th.proc.mem, pathAddr, 1); err == nil && p == "" {
			return th.proc.fdNode(int(int32(dirfd)))
		}
	}
	return em.pathNode(th, int32(dirfd), pathAddr)
}

// accessAnswer is access(2) on a 0666 device for any caller: read and
// write are granted, execute is not.
func accessAnswer(mode uint64) int64 {
	if mode&^uint64(unix.R_OK|unix.W_OK|unix.X_OK) != 0 {
		return errnoRet(unix.EINVAL)
	}
	if mode&unix.X_OK != 0 {
		return errnoRet(unix.EACCES)
	}
	return 0
}

// nodeIno is the inode number shown for a device node: stable, and not
// one a real file is likely to have.
func nodeIno(n *devNode) uint64 { return 0x5a00 | uint64(n.minor) }

// putStat writes a struct stat (x86-64, 144 bytes) for n at addr: devtmpfs's
// device and times, taken from /dev/null, with the node's own identity.
func (em *Emulator) putStat(pr *process, n *devNode, addr uint64) int64 {
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		return errnoRet(unix.ENOENT)
	}
	b := make([]byte, 144)
	le := binary.LittleEndian
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], nodeIno(n))
	le.PutUint64(b[16:], 1) // st_nlink
	le.PutUint32(b[24:], devNodeMode)
	le.PutUint32(b[28:], 0) // root
	le.PutUint32(b[32:], 0)
	le.PutUint64(b[40:], unix.Mkdev(miscMajor, n.minor))
	le.PutUint64(b[48:], 0) // st_size
	le.PutUint64(b[56:], uint64(st.Blksize))
	le.PutUint64(b[64:], 0) // st_blocks
	for i, ts := range []unix.Timespec{st.Atim, st.Mtim, st.Ctim} {
		le.PutUint64(b[72+16*i:], uint64(ts.Sec))
		le.PutUint64(b[80+16*i:], uint64(ts.Nsec))
	}
	if _, err := pr.mem.WriteMemory(b, addr); err != nil {
		return errnoRet(unix.EFAULT)
	}
	return 0
}

// putStatx writes a struct statx (256 bytes) for n at addr, for the mask
// and flags the caller gave: what statx of /dev/null returns with them,
// with the node's own identity.
func (em *Emulator) putStatx(pr *process, n *devNode, flags, mask int, addr uint64) int64 {
	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/dev/null", flags&^unix.AT_EMPTY_PATH, mask, &sx); err != nil {
		if e, ok := err.(unix.Errno); ok {
			return errnoRet(e)
		}
		return errnoRet(unix.EINVAL)
	}
	b := make([]byte, 256)
	le := binary.LittleEndian
	le.PutUint32(b[0:], sx.Mask)
	le.PutUint32(b[4:], sx.Blksize)
	le.PutUint64(b[8:], sx.Attributes)
	le.PutUint32(b[16:], 1) // nlink
	le.PutUint32(b[20:], 0) // root
	le.PutUint32(b[24:], 0)
	le.PutUint16(b[28:], devNodeMode)
	le.PutUint64(b[32:], nodeIno(n))
	le.PutUint64(b[40:], 0) // size
	le.PutUint64(b[48:], 0) // blocks
	le.PutUint64(b[56:], sx.Attributes_mask)
	for i, ts := range []unix.StatxTimestamp{sx.Atime, sx.Btime, sx.Ctime, sx.Mtime} {
		le.PutUint64(b[64+16*i:], uint64(ts.Sec))
		le.PutUint32(b[72+16*i:], ts.Nsec)
	}
	le.PutUint32(b[128:], miscMajor)
	le.PutUint32(b[132:], n.minor)
	le.PutUint32(b[136:], sx.Dev_major)
	le.PutUint32(b[140:], sx.Dev_minor)
	le.PutUint64(b[144:], sx.Mnt_id)
	if _, err := pr.mem.WriteMemory(b, addr); err != nil {
		return errnoRet(unix.EFAULT)
	}
	return 0
}
