// Package target is the vocabulary shared by the debugger and its
// backends (the emulator, SGX hardware): the enclave event timeline, what
// a backend says about enclaves and threads, and what it lets the
// debugger do at a stop. It does no process control itself.
package target
