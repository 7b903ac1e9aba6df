package emu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// CPUSecretEnv names the environment variable (of sgxdbg itself, not of
// the host program) that pins the emulated processor's secret: 64 hex
// digits. Tests and reproducible runs set it; Options.CPUSecret wins over
// it.
const CPUSecretEnv = "SGXDBG_CPU_SECRET"

// CPUSecretPath returns where the per-user secret is kept:
// $XDG_CONFIG_HOME/sgxdbg/cpu-secret, or ~/.config/sgxdbg/cpu-secret.
func CPUSecretPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("emulated CPU secret: %w", err)
	}
	return filepath.Join(dir, "sgxdbg", "cpu-secret"), nil
}

// ParseCPUSecret decodes a secret written as 64 hex digits (surrounding
// white space allowed).
func ParseCPUSecret(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("emulated CPU secret: not hex: %w", err)
	}
	if len(b) != sgx.CPUSecretSize {
		return nil, fmt.Errorf("emulated CPU secret: %d bytes, want %d (64 hex digits)", len(b), sgx.CPUSecretSize)
	}
	return b, nil
}

// cpuSecret returns the emulated processor's secret: Options.CPUSecret,
// else $SGXDBG_CPU_SECRET, else the per-user file, made on first use.
func (em *Emulator) cpuSecret() ([]byte, error) {
	if s := em.opts.CPUSecret; s != nil {
		if len(s) != sgx.CPUSecretSize {
			return nil, fmt.Errorf("emulated CPU secret: Options.CPUSecret has %d bytes, want %d", len(s), sgx.CPUSecretSize)
		}
		return s, nil
	}
	if s, ok := os.LookupEnv(CPUSecretEnv); ok {
		b, err := ParseCPUSecret(s)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", CPUSecretEnv, err)
		}
		return b, nil
	}
	path, err := CPUSecretPath()
	if err != nil {
		return nil, err
	}
	return LoadOrCreateCPUSecret(path, rand.Reader)
}

// keyHierarchy returns the emulated processor's keys, made from the
// secret the first time an enclave asks for a key or a report.
func (em *Emulator) keyHierarchy() (*sgx.KeyHierarchy, error) {
	if em.keys != nil {
		return em.keys, nil
	}
	s, err := em.cpuSecret()
	if err != nil {
		return nil, err
	}
	if em.keys, err = sgx.NewKeyHierarchy(s); err != nil {
		return nil, err
	}
	return em.keys, nil
}

// LoadOrCreateCPUSecret reads the secret file at path, or creates it with
// a fresh secret from rnd if it does not exist. The file is never opened
// through a symbolic link (O_NOFOLLOW), must be a regular file that only
// its owner can read or write, and holds 64 hex digits and a newline. It
// is created complete or not at all: the secret is written to a new file
// (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600) beside it, which is then
// hard-linked to path; when another process created path first, its
// secret is used.
func LoadOrCreateCPUSecret(path string, rnd io.Reader) ([]byte, error) {
	b, err := readCPUSecret(path)
	if !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("emulated CPU secret: %w", err)
	}
	secret := make([]byte, sgx.CPUSecretSize)
	if _, err := io.ReadFull(rnd, secret); err != nil {
		return nil, fmt.Errorf("emulated CPU secret: random bytes: %w", err)
	}
	tmp := fmt.Sprintf("%s.new-%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("emulated CPU secret: create: %w", err)
	}
	defer os.Remove(tmp)
	_, err = f.WriteString(hex.EncodeToString(secret) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("emulated CPU secret: write %s: %w", tmp, err)
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("emulated CPU secret: %w", err)
	}
	return readCPUSecret(path)
}

// readCPUSecret reads and checks an existing secret file.
func readCPUSecret(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("emulated CPU secret: %s is a symbolic link; refusing it", path)
		}
		return nil, fmt.Errorf("emulated CPU secret: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("emulated CPU secret: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("emulated CPU secret: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("emulated CPU secret: %s has mode %#o; it must be accessible to its owner only (chmod 600)", path, perm)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, fmt.Errorf("emulated CPU secret: read %s: %w", path, err)
	}
	b, err := ParseCPUSecret(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
