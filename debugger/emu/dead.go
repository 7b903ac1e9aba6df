package emu

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

var _ interface{ Dead() bool } = (*Process)(nil)

// Dead reports whether every thread of the host's main process has ended
// (target.Mortal). It reads /proc only, so any goroutine may ask while
// the tracer thread holds a stop: a thread killed at its ptrace-stop is a
// zombie ('Z') until the tracer reaps it, and a reaped process has no
// /proc entry.
func (p *Process) Dead() bool { return threadsDead(p.em.mainPid) }

// threadsDead reports whether no thread of process pid can run: each is a
// zombie or gone.
func threadsDead(pid int) bool {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	for _, e := range ents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, e.Name()))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state …: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) {
			return false
		}
		if st := b[i+2]; st != 'Z' && st != 'X' {
			return false
		}
	}
	return true
}
