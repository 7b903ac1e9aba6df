package target

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// UnmarshalJSON reads one event in the JSON form MarshalJSON writes (the
// contract of `sgxdbg emulate --json`): every key that form has for the
// event's kind must be present with its type. Core files keep the
// timeline this way.
func (ev *Event) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	f := fields{m: m}
	var e Event
	e.Kind = EventKind(f.str("event"))
	switch e.Kind {
	case EvEnclaveCreated:
		e.Pid = f.int("pid")
		e.Enclave = f.hex("enclave")
		e.Size = f.hex("size")
		e.SSAFrameSize = uint32(f.uint("ssa_frame_size", 32))
		e.MiscSelect = uint32(f.hexN("miscselect", 32))
		e.Attributes = f.hex("attributes")
		e.XFRM = f.hex("xfrm")
	case EvPagesAdded:
		e.Enclave = f.hex("enclave")
		e.Offset = f.hex("offset")
		e.Length = f.hex("length")
		e.Secinfo = f.hex("secinfo")
		e.Measure = f.bool("measure")
	case EvEnclaveInitialized:
		e.Enclave = f.hex("enclave")
		e.MRENCLAVE = f.digest("mrenclave")
		e.MRSIGNER = f.digest("mrsigner")
	case EvEENTER, EvERESUME:
		e.Tid = f.int("tid")
		e.TCS = f.hex("tcs")
		e.CSSA = f.int("cssa")
	case EvEEXIT:
		e.Tid = f.int("tid")
		e.TCS = f.hex("tcs")
	case EvAEX:
		e.Tid = f.int("tid")
		e.Enclave = f.hex("enclave")
		e.TCS = f.hex("tcs")
		e.SSA = f.int("ssa")
		e.CSSA = f.int("cssa")
		e.Vector = uint8(f.uint("vector", 8))
		e.VectorName = f.str("vector_name")
		e.ExitType = f.str("exit_type")
		e.Valid = f.bool("valid")
		e.MAddr = f.hex("maddr")
		e.ErrCd = uint32(f.hexN("errcd", 32))
		e.RIP = f.hex("rip")
		e.AEP = f.hex("aep")
		e.Signal = f.str("signal")
	case EvENCLUFault:
		e.Tid = f.int("tid")
		e.TCS = f.hex("tcs")
		e.Leaf = f.str("leaf")
		e.Vector = uint8(f.uint("vector", 8))
		e.VectorName = f.str("vector_name")
		e.Reason = f.str("reason")
		e.RIP = f.hex("rip")
		e.Signal = f.str("signal")
	case EvEnclaveRemoved:
		e.Pid = f.int("pid")
		e.Enclave = f.hex("enclave")
	case EvCPUIDRewritten:
		e.Pid = f.int("pid")
		e.Enclave = f.hex("enclave")
		e.RIP = f.hex("rip")
		e.Reason = f.str("reason")
	case EvExit:
		e.Pid = f.int("pid")
		e.Status = f.int("status")
		if _, ok := m["killed"]; ok {
			e.Killed = f.str("killed")
		}
	default:
		if f.err == nil {
			f.err = fmt.Errorf("unknown event kind %q", e.Kind)
		}
	}
	if f.err != nil {
		return f.err
	}
	*ev = e
	return nil
}

// fields reads typed values from a JSON object, keeping the first error.
type fields struct {
	m   map[string]json.RawMessage
	err error
}

func (f *fields) get(key string, v any) bool {
	if f.err != nil {
		return false
	}
	raw, ok := f.m[key]
	if !ok {
		f.err = fmt.Errorf("no %q", key)
		return false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		f.err = fmt.Errorf("%q: %w", key, err)
		return false
	}
	return true
}

func (f *fields) str(key string) string {
	var s string
	f.get(key, &s)
	return s
}

func (f *fields) bool(key string) bool {
	var b bool
	f.get(key, &b)
	return b
}

// number returns the JSON number at key (json.Number also accepts a
// quoted string; the contract has plain numbers).
func (f *fields) number(key string) (string, bool) {
	var n json.Number
	if !f.get(key, &n) {
		return "", false
	}
	if raw := bytes.TrimSpace(f.m[key]); len(raw) > 0 && raw[0] == '"' {
		f.err = fmt.Errorf("%q: %s is a string, not a number", key, raw)
		return "", false
	}
	return n.String(), true
}

func (f *fields) uint(key string, bits int) uint64 {
	n, ok := f.number(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseUint(n, 10, bits)
	if err != nil {
		f.err = fmt.Errorf("%q: %w", key, err)
	}
	return v
}

func (f *fields) int(key string) int {
	n, ok := f.number(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(n, 10, 32)
	if err != nil {
		f.err = fmt.Errorf("%q: %w", key, err)
	}
	return int(v)
}

func (f *fields) hexN(key string, bits int) uint64 {
	s := f.str(key)
	if f.err != nil {
		return 0
	}
	if len(s) < 3 || s[:2] != "0x" {
		f.err = fmt.Errorf("%q: %q is not 0x-prefixed hex", key, s)
		return 0
	}
	v, err := strconv.ParseUint(s[2:], 16, bits)
	if err != nil {
		f.err = fmt.Errorf("%q: %w", key, err)
	}
	return v
}

func (f *fields) hex(key string) uint64 { return f.hexN(key, 64) }

func (f *fields) digest(key string) [32]byte {
	var d [32]byte
	s := f.str(key)
	if f.err != nil {
		return d
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(d) {
		f.err = fmt.Errorf("%q: %q is not 64 hex digits", key, s)
		return d
	}
	copy(d[:], b)
	return d
}
