package ssa

import (
	"fmt"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// ExitInfo is the GPRSGX.EXITINFO word (SDM Vol. 3D "EXITINFO"): bits 7:0
// VECTOR, bits 10:8 EXIT_TYPE, bit 31 VALID; bits 30:11 are reserved and
// written as 0 by an AEX. VALID is 0, with VECTOR and EXIT_TYPE cleared,
// for interrupts, NMI, SMI, VM exits and exceptions not reported in the
// enclave (#GP and #PF without MISCSELECT.EXINFO, for one).
type ExitInfo uint32

// EXITINFO bit layout.
const (
	exitVectorMask   ExitInfo = 0xff
	exitTypeShift             = 8
	exitTypeMask     ExitInfo = 0x7 << exitTypeShift
	ExitInfoValid    ExitInfo = 1 << 31 // the VALID bit
	ExitInfoReserved ExitInfo = ^(exitVectorMask | exitTypeMask | ExitInfoValid)
)

// MakeExitInfo returns a valid EXITINFO for vector v and exit type t.
// Exit types wider than 3 bits are truncated to bits 10:8.
func MakeExitInfo(v sgx.Vector, t sgx.ExitType) ExitInfo {
	return ExitInfo(v) | ExitInfo(t)<<exitTypeShift&exitTypeMask | ExitInfoValid
}

// Vector returns EXITINFO.VECTOR.
func (e ExitInfo) Vector() sgx.Vector { return sgx.Vector(e & exitVectorMask) }

// Type returns EXITINFO.EXIT_TYPE.
func (e ExitInfo) Type() sgx.ExitType { return sgx.ExitType((e & exitTypeMask) >> exitTypeShift) }

// Valid reports EXITINFO.VALID.
func (e ExitInfo) Valid() bool { return e&ExitInfoValid != 0 }

// Reserved returns the reserved bits (30:11) that are set.
func (e ExitInfo) Reserved() uint32 { return uint32(e & ExitInfoReserved) }

// String renders "#PF hardware (valid)", or "invalid (interrupt or
// unreported event)" when VALID is 0. Set reserved bits, and a vector or
// type left in an invalid word, are appended so nothing is hidden.
func (e ExitInfo) String() string {
	var s string
	if e.Valid() {
		s = fmt.Sprintf("%v %v (valid)", e.Vector(), e.Type())
	} else {
		s = "invalid (interrupt or unreported event)"
		if e&(exitVectorMask|exitTypeMask) != 0 {
			s += fmt.Sprintf(" vector %d type %d", uint8(e.Vector()), uint8(e.Type()))
		}
	}
	if r := e.Reserved(); r != 0 {
		s += fmt.Sprintf(" reserved %#x", r)
	}
	return s
}

// Words describes the exit in words for the frame header:
// "#PF page fault, hardware exception (valid)".
func (e ExitInfo) Words() string {
	if !e.Valid() {
		return e.String()
	}
	s := fmt.Sprintf("%v %s, %v exception (valid)", e.Vector(), e.Vector().Name(), e.Type())
	if r := e.Reserved(); r != 0 {
		s += fmt.Sprintf(" reserved %#x", r)
	}
	return s
}
