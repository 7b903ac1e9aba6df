// Package debugger is sgxdbg's core: a Session over a traced host program
// that stops at enclave events (AEX, EENTER, EEXIT, …) according to a stop
// policy, keeps one ordered event timeline, and runs the command language
// shared by the terminal UI and batch scripts. Views decode the SSA frames,
// compare the enclave's real registers with the synthetic state the OS
// sees, disassemble and symbolize enclave code and unwind its stack;
// actions ERESUME the enclave, run its exception handler, tear it down,
// skip the faulting instruction, edit SSA registers or enclave memory
// (EDBGWR), single-step inside the enclave, or let the host continue.
//
// The session reaches the host only through target.Stop, implemented by a
// backend (the emulator, debugger/emu) that the command line wires in; it
// imports no backend. Enclave memory is read only through the stop's
// EDBGRD path.
package debugger
