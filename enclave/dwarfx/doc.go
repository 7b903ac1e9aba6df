// Package dwarfx answers source-level questions about a C program from its
// DWARF: the arguments and locals in scope at a PC and their values, C
// expressions over them (print, ptype), breakpoint locations (FUNCTION,
// FILE:LINE, *ADDR) and the source text to show (list). It works on any
// x86-64 ELF with DWARF 4 or 5 — an enclave image linked at 0 and loaded at
// a base, or an ordinary executable (base 0) — and is backend independent:
// registers, the CFA and a memory reader come from the caller.
//
// DWARF location expressions run in delve's pkg/dwarf/op; types and
// function trees are read with pkg/dwarf/godwarf and location lists with
// pkg/dwarf/loclist. This package adds what those lack for C: the
// evaluation of DW_OP_entry_value (from the current registers at a
// function's first instruction, or from the caller's DW_TAG_call_site
// parameters), C type names, gdb-style value formatting, a C expression
// parser, and gdb's choice of breakpoint addresses.
//
// # Use
//
// A debugger opens the image once (Open), and at a stop builds the
// innermost Frame from the thread's registers (for an AEX, the SSA's
// GPRSGX: Regs.Set(RegRAX, gpr.RAX) … Regs.Set(RegEFLAGS, gpr.RFLAGS),
// PC = gpr.RIP), walks its callers with Unwind (which links each frame to
// its Caller, so that DW_OP_entry_value can be evaluated through call
// sites), and asks a Scope of the selected frame for Args, Locals, Print,
// PType, WhatIs. Resolve turns a breakpoint location into addresses, List
// a list argument into a line range, and Sources reads the lines. All
// addresses a caller passes or gets are run-time addresses of the image
// loaded at base.
//
// A Program holds a lock while it evaluates, including while it calls the
// ReadMemory the caller gave: that function must not call back into the
// Program.
//
// # Security
//
// Images are untrusted input: DWARF is decoded lazily and every decoder
// (Go's debug/dwarf, delve's op, godwarf, loclist) runs behind a recover,
// so malformed DWARF yields an error, never a panic. Memory reads are
// bounded by the sizes of the types being read (MaxValueSize), and source
// files by MaxSourceSize.
package dwarfx
