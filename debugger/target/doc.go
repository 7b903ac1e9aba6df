// Package target is the contract between the debugger and its backends
// (the emulator, a core file, later SGX hardware): what a backend is
// (Process: resume, and get the next stop back), what a stopped thread
// offers (Stop: views and actions), the enclave event timeline, the
// register set, and the EDBGRD/EDBGWR access rules every backend applies.
// It imports no process control.
//
// # Security
//
// Events decoded from JSON (core files keep the timeline that way) are
// untrusted: UnmarshalJSON checks every key and type and never panics.
// CheckDebugAccess is the one statement of which enclave bytes a debugger
// may read or write; backends call it before touching enclave memory.
package target
