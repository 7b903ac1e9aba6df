package debugger

import (
	"fmt"
	"strconv"
	"strings"
)

// imageAddr turns break's *ADDR, a run-time address in an enclave at the
// current stop, into the image offset that resolveCode takes (it resolves
// every image at base 0), and says which image: the enclave's. ok is
// false for any other spec, or when no stop has an enclave there.
func (s *Session) imageAddr(spec string) (string, [32]byte, bool) {
	w, found := strings.CutPrefix(strings.TrimSpace(spec), "*")
	st := s.cur
	if !found || st == nil || st.Resumed() {
		return spec, [32]byte{}, false
	}
	a, err := strconv.ParseUint(strings.TrimSpace(w), 0, 64)
	if err != nil {
		return spec, [32]byte{}, false
	}
	e, ok := enclaveAt(st, a)
	if !ok {
		return spec, [32]byte{}, false
	}
	return fmt.Sprintf("*%#x", a-e.Base), e.MRENCLAVE, true
}

// onlyImage keeps the locations in the image that measures to mr.
func onlyImage(locs []breakLoc, mr [32]byte) []breakLoc {
	var out []breakLoc
	for _, l := range locs {
		if l.mr == mr {
			out = append(out, l)
		}
	}
	return out
}
