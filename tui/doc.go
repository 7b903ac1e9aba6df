// Package tui is sgxdbg's terminal user interface: a Bubble Tea program that
// renders a debugger.Session and drives it with one key per action.
//
// It holds no SGX logic. Every pane shows the Result of a command of the
// session's command language (info enclaves, ssa, regs, disas, bt, info
// args and info locals, x, events; info breakpoints marks the code),
// every action is a command line (eresume, eenter-handler, teardown,
// skip, stepi, step, next, finish, until, break, delete, frame, continue,
// kill), and the session's blocking Wait runs in a tea.Cmd that reports
// the next stop as a message; ctrl+c interrupts it (Session.Interrupt). Events from
// debugger.Options.OnEvent and the host's output reach the model through
// Feeds, which never block their producers.
//
// The session is never used by two goroutines at once: the model issues a
// Wait only when no command is running and runs commands only while the
// host is held at a stop, one batch at a time.
package tui
