// Package ptrace controls Linux processes through ptrace(2): it launches a
// program under the tracer, waits for and classifies stops, reads and
// writes registers, XSAVE state, siginfo and memory, and injects system
// calls into a stopped thread.
//
// Linux requires every ptrace request for a tracee to come from the OS
// thread that attached it. A [Tracer] owns one goroutine locked to its OS
// thread; run all work on it with [Tracer.Do]. Every function in this
// package that issues a ptrace request states that precondition: the
// calling goroutine must be the tracer's.
package ptrace
