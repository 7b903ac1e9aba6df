package target

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Mortal is an optional capability of a Process: Dead reports, from any
// goroutine, without waiting and without touching the host, that the
// host's main process can run no more — every one of its threads has
// ended (a SIGKILL from outside, or another thread's exit_group, while the
// debugger held a thread at a stop). ContinueOnce then reaps it and
// reports its end.
type Mortal interface {
	Dead() bool
}

// String says how the host ended: "exited with status 3" or "killed by
// SIGKILL".
func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return "killed by " + unix.SignalName(s.Signal)
	}
	return "exited with status " + strconv.Itoa(s.Code)
}
