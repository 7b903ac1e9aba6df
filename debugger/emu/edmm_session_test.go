package emu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Through the debugger: stopped at the EPCM #PF of an EAUGed page, info
// enclaves lists the page as PENDING, and reading it (EDBGRD) fails with
// SGX_PAGE_NOT_DEBUGGABLE; continuing, the host accepts the page and ends.
func TestEDMMSession(t *testing.T) {
	buildEDMM(t)
	dir := t.TempDir()
	blob, sig := writeEDMM(t, dir, false)
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	s, err := debugger.Launch(Backend, target.LaunchOptions{Path: edmmBin, Args: []string{edmmBin, blob, sig, "augment"},
		Files: []*os.File{os.Stdin, out, out}}, debugger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Wait()
	if err != nil || st.Exited || st.Event.Kind != EvAEX || st.Event.ErrCd != 0x8007 {
		t.Fatalf("first stop %+v, %v; want the AEX of the EPCM #PF", st, err)
	}
	page := st.Event.Enclave + 0x10000
	res, err := s.Exec("info enclaves")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("\n  page %#x R+W+PENDING+PT_REG", page); !strings.Contains(res.Text(), want) {
		t.Errorf("info enclaves:\n%s\nwant a line %q", res.Text(), want)
	}
	_, err = s.Exec(fmt.Sprintf("x/8xb %#x", page))
	var dae *target.DebugAccessError
	if !errors.As(err, &dae) || dae.Code != sgx.ErrPageNotDebuggable {
		t.Errorf("x on the PENDING page: %v, want SGX_PAGE_NOT_DEBUGGABLE", err)
	}
	if _, err := s.Exec("continue"); err != nil {
		t.Fatal(err)
	}
	if st, err = s.Wait(); err != nil || !st.Exited || st.Status != 0 {
		t.Fatalf("end %+v, %v", st, err)
	}
}
