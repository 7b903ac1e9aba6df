package main

// Checks of flag values that the commands share: what cobra cannot see
// (an empty policy word, an --enclave file that is not an enclave image)
// is an error before anything runs.

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/inputfile"
)

// validate checks exec's flags; dumpOnSet says whether --dump-on was
// given (an empty word is then an error).
func (o *execOptions) validate(dumpOnSet bool) error {
	for _, w := range o.stopOn {
		if strings.TrimSpace(w) == "" {
			return fmt.Errorf("--stop-on %q: no policy words (aex [VECTORS], eenter, eexit, eresume, all, none)", w)
		}
	}
	if dumpOnSet && o.dumpOn == "" {
		return errors.New(`--dump-on "": want aex, fatal or exit`)
	}
	if _, err := newDumpOn(o.dumpOn); err != nil {
		return err
	}
	return checkEnclaveImages(o.enclaves)
}

// checkEnclaveImages opens each --enclave file as an enclave image: a
// missing file, a file that is not ELF or an ELF that is not an enclave
// image is an error, not a silently unused flag.
func checkEnclaveImages(paths []string) error {
	for _, p := range paths {
		im, err := enclave.Open(p)
		if err != nil {
			var pe *fs.PathError
			var ie *inputfile.Error
			if errors.As(err, &pe) || errors.As(err, &ie) {
				return fmt.Errorf("--enclave: %w", err) // the error names the file
			}
			return fmt.Errorf("--enclave %s: not a usable enclave image: %w", p, err)
		}
		im.Close()
	}
	return nil
}
