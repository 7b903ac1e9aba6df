package dap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// FuzzServe: whatever a client sends (framed as DAP messages), the
// server answers without panicking. No host is launched: the backend
// refuses, so every request runs its checks on the arguments.
func FuzzServe(f *testing.F) {
	for _, s := range []string{
		`{"seq":1,"type":"request","command":"initialize","arguments":{"adapterID":"x"}}`,
		`{"seq":2,"type":"request","command":"launch","arguments":{"program":"/bin/true","stopOn":["aex","#PF"]}}`,
		`{"seq":3,"type":"request","command":"launch","arguments":{"program":"/bin/true","stopOn":7}}`,
		`{"seq":4,"type":"request","command":"setBreakpoints","arguments":{"source":{"path":"a.c"},"breakpoints":[{"line":9}]}}`,
		`{"seq":5,"type":"request","command":"readMemory","arguments":{"memoryReference":"0x10","count":-1}}`,
		`{"seq":6,"type":"request","command":"evaluate","arguments":{"expression":"ssa","context":"repl"}}`,
		`{"seq":7,"type":"request","command":"variables","arguments":{"variablesReference":99}}`,
		`{"seq":8,"type":"request","command":"nosuch"}`,
		`{"seq":9,"type":"response","command":"x","success":true}`,
		`{"seq":10,"type":"request","command":"disconnect"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var in bytes.Buffer
		fmt.Fprintf(&in, "Content-Length: %d\r\n\r\n%s", len(msg), msg)
		sv := NewServer(&in, io.Discard, Config{Backend: func(string, []string) (target.Backend, error) {
			return target.Backend{}, errors.New("no backend while fuzzing")
		}})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = sv.Serve()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second): // a hang detector, not a timing assertion
			t.Fatalf("Serve hangs on %q", msg)
		}
	})
}
