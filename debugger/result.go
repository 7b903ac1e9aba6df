package debugger

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

// Hex is an address or register value; it marshals to JSON as a hex
// string ("0x7f00…"), as every sgxdbg JSON output does.
type Hex uint64

// MarshalJSON renders h as "0x…".
func (h Hex) MarshalJSON() ([]byte, error) { return []byte(`"` + h.String() + `"`), nil }

// UnmarshalJSON reads "0x…".
func (h *Hex) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("hex value %s: %w", b, err)
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return fmt.Errorf("hex value %s: %w", b, err)
	}
	*h = Hex(v)
	return nil
}

func (h Hex) String() string { return "0x" + strconv.FormatUint(uint64(h), 16) }

// Digest is a 32-byte measurement that marshals as 64 hex digits.
type Digest [32]byte

// MarshalJSON renders d as a hex string.
func (d Digest) MarshalJSON() ([]byte, error) {
	return []byte(`"` + hex.EncodeToString(d[:]) + `"`), nil
}

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Result is what a command returns: Text renders it for people; its JSON
// form (encoding/json with the struct tags) is for scripts.
type Result interface {
	Text() string
}

// Change is one field an action changed.
type Change struct {
	Field string `json:"field"`
	Old   Hex    `json:"old"`
	New   Hex    `json:"new"`
}

// ActionResult reports what an action did.
type ActionResult struct {
	Action  string   `json:"action"`
	Message string   `json:"message"`
	Changes []Change `json:"changes,omitempty"`
}

// Text renders the message and the changes.
func (r *ActionResult) Text() string {
	s := r.Message
	for _, c := range r.Changes {
		s += fmt.Sprintf("\n  %-10s %#x -> %#x", c.Field, uint64(c.Old), uint64(c.New))
	}
	return s
}
