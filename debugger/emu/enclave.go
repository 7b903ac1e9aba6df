package emu

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// epcPage is the emulator's EPCM entry of one enclave page plus what the
// host's page tables hold for it.
type epcPage struct {
	secinfo sgx.SecinfoFlags // EPCM type, R/W/X and PENDING/MODIFIED/PR
	maxProt int              // the driver's vm_max_prot_bits: the most a mapping may allow
	mapped  bool             // the host has an enclave mapping over it
	prot    int              // the mapping's protection (what the host asked for)
	touched bool             // a PTE is present (the page faulted in since it was mapped)
	active  bool             // the tracee's mapping of the page currently has effectiveProt
}

// epcmProt is what the EPCM lets enclave code do with a page, as mmap
// protection bits: nothing for a page that is not PT_REG or that waits
// for an EACCEPT (PENDING or MODIFIED), else its R/W/X. PR does not
// restrict access (SDM "Access-control requirements").
func epcmProt(s sgx.SecinfoFlags) int {
	if s.PageType() != sgx.PageTypeREG || s&(sgx.SecinfoPending|sgx.SecinfoModified) != 0 {
		return unix.PROT_NONE
	}
	return secinfoProt(s)
}

// secinfoProt is SECINFO's R/W/X as mmap protection bits.
func secinfoProt(s sgx.SecinfoFlags) int {
	p := 0
	if s&sgx.SecinfoR != 0 {
		p |= unix.PROT_READ
	}
	if s&sgx.SecinfoW != 0 {
		p |= unix.PROT_WRITE
	}
	if s&sgx.SecinfoX != 0 {
		p |= unix.PROT_EXEC
	}
	return p
}

// effectiveProt is the protection the tracee's mapping of the page gets
// once touched: what both the page tables and the EPCM allow. Enclave
// accesses beyond it fault; the emulator tells a page-table fault from an
// EPCM one with prot.
func (p *epcPage) effectiveProt() int { return p.prot & epcmProt(p.secinfo) }

// enclave is one emulated enclave: its SECS, EPC contents and EPCM.
type enclave struct {
	pid     int
	fds     map[int]bool // host file descriptors that refer to it
	file    *os.File     // tracer's handle on the memfd
	mem     []byte       // tracer's mapping of the whole ELRANGE
	secs    sgx.SECS
	ident   sgx.Identity // what EREPORT and EGETKEY read, set by EINIT
	created bool
	inited  bool
	pages   map[uint64]*epcPage // by page offset
	meas    *sgx.Measurement
	// original holds the bytes of instructions rewritten to UD2 after
	// EINIT (CPUID, SYSCALL, …), by enclave offset: EDBGRD shows these.
	original map[uint64][2]byte
	shown    map[uint64]bool // rewritten sites showing their original bytes
	// rewritten lists the addresses of the CPUID instructions the
	// rewriting fallback changed, ascending (empty with CPUID faulting).
	rewritten []uint64
	maps      []mapping // host mappings of the enclave file
	initErr   error     // why the last EINIT failed, for diagnostics
	// attrMask is the driver's attributes_mask: the ATTRIBUTES EINIT
	// accepts (SGX_ATTR_UNPRIV_MASK, plus PROVISIONKEY once allowed).
	attrMask sgx.AttributeFlags
}

func (e *enclave) base() uint64 { return e.secs.BaseAddr }
func (e *enclave) size() uint64 { return e.secs.Size }

// contains reports whether addr is inside ELRANGE.
func (e *enclave) contains(addr uint64) bool {
	return e.created && addr >= e.base() && addr-e.base() < e.size()
}

// page returns the EPCM entry of the page holding addr, or nil.
func (e *enclave) page(addr uint64) *epcPage {
	if !e.contains(addr) {
		return nil
	}
	return e.pages[(addr-e.base())&^(sgx.PageSize-1)]
}

// create sets up the EPC backing for secs once ECREATE's checks passed.
func (e *enclave) create(secs sgx.SECS) error {
	if err := e.file.Truncate(int64(secs.Size)); err != nil {
		return fmt.Errorf("size enclave memory to %#x: %w", secs.Size, err)
	}
	mem, err := unix.Mmap(int(e.file.Fd()), 0, int(secs.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map enclave memory of %#x bytes: %w", secs.Size, err)
	}
	e.mem = mem
	e.secs = secs
	e.created = true
	e.pages = make(map[uint64]*epcPage)
	e.original = make(map[uint64][2]byte)
	e.shown = make(map[uint64]bool)
	e.meas = sgx.NewMeasurement(secs.Size, secs.SSAFrameSize)
	return nil
}

// release drops the tracer's mapping and file.
func (e *enclave) release() {
	if e.mem != nil {
		_ = unix.Munmap(e.mem)
		e.mem = nil
	}
	if e.file != nil {
		e.file.Close()
		e.file = nil
	}
}

// tcs returns the TCS at linear address addr, or a #PF/#GP reason when
// addr is not a TCS page of this enclave.
func (e *enclave) tcs(addr uint64) (sgx.TCS, error) {
	var t sgx.TCS
	if addr&(sgx.PageSize-1) != 0 {
		return t, fmt.Errorf("TCS %#x not page aligned", addr)
	}
	p := e.page(addr)
	if p == nil || p.secinfo.PageType() != sgx.PageTypeTCS || p.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0 {
		return t, fmt.Errorf("%#x is not a TCS page of enclave %#x", addr, e.base())
	}
	return e.currentTCS(addr)
}

// currentTCS decodes the TCS a thread inside the enclave runs on. The
// processor keeps using it whatever happened to its EPCM entry since the
// thread entered (the host may have changed its type with EMODT): no EPCM
// check is made.
func (e *enclave) currentTCS(addr uint64) (sgx.TCS, error) {
	var t sgx.TCS
	off := addr - e.base()
	if !e.contains(addr) || addr&(sgx.PageSize-1) != 0 {
		return t, fmt.Errorf("TCS %#x is not a page of enclave %#x", addr, e.base())
	}
	if err := t.UnmarshalBinary(e.mem[off : off+sgx.TCSSize]); err != nil {
		return t, fmt.Errorf("TCS at %#x: %w", addr, err)
	}
	return t, nil
}

// TCS field offsets (SGX.md §1) for in-place updates.
const (
	tcsState = 0
	tcsFlags = 8
	tcsCSSA  = 24
	tcsAEP   = 40
)

func (e *enclave) putTCS64(tcs uint64, field int, v uint64) {
	off := tcs - e.base() + uint64(field)
	binary.LittleEndian.PutUint64(e.mem[off:], v)
}

func (e *enclave) putTCS32(tcs uint64, field int, v uint32) {
	off := tcs - e.base() + uint64(field)
	binary.LittleEndian.PutUint32(e.mem[off:], v)
}

// ssaFrame returns the bytes of SSA frame i of t, checking that every page
// of it is a RW REG page (EENTER/ERESUME raise #PF otherwise).
func (e *enclave) ssaFrame(t sgx.TCS, i uint32) ([]byte, uint64, error) {
	frame, addr, err := e.frameOf(t, i)
	if err != nil {
		return nil, 0, err
	}
	for p := addr - e.base(); p < addr-e.base()+uint64(len(frame)); p += sgx.PageSize {
		pg := e.pages[p]
		if pg == nil || epcmProt(pg.secinfo)&(unix.PROT_READ|unix.PROT_WRITE) != unix.PROT_READ|unix.PROT_WRITE {
			return nil, 0, fmt.Errorf("SSA frame %d page at offset %#x is not a RW REG page", i, p)
		}
	}
	return frame, addr, nil
}

// frameOf returns the bytes of SSA frame i of t with no EPCM check: the
// frame an AEX writes was checked when the thread entered, and the
// processor writes it whatever the host did to its pages since.
func (e *enclave) frameOf(t sgx.TCS, i uint32) ([]byte, uint64, error) {
	frameBytes := uint64(e.secs.SSAFrameSize) * sgx.PageSize
	off := t.OSSA + uint64(i)*frameBytes
	if off+frameBytes > e.size() || off+frameBytes < off {
		return nil, 0, fmt.Errorf("SSA frame %d at offset %#x outside ELRANGE", i, off)
	}
	return e.mem[off : off+frameBytes], e.base() + off, nil
}
