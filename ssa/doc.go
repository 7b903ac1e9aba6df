// Package ssa decodes, encodes and interprets SGX State Save Area frames: the
// GPRSGX region, its EXITINFO word, the EXINFO record of the MISC region and
// the XSAVE area, as laid out by the Intel SDM Vol. 3D ("State Save Area
// Frame") and SGX.md §1.
//
// It does no I/O: callers hand it the bytes of one frame (read through the
// EDBGRD path, from a core file, or built by the emulator) together with the
// Geometry that locates frames of one TCS, and get a Frame back. The
// interpretation helpers name exit reasons and page-fault error-code bits,
// undo the INT3 RIP quirk, compute the synthetic register state an AEX
// leaves at the AEP, and render a frame as text for the CLI and the TUI.
//
// # Security
//
// SSA frames are untrusted input: they live in enclave memory, which the
// enclave itself may overwrite, and they are read from processes and core
// files the debugger does not control. Every decoder checks lengths,
// reserved bits and the XSAVE header before using a byte, reports a bad
// frame as a *DecodeError naming the field and its offset, and never
// panics. Fuzz targets in this package exercise that promise.
package ssa
