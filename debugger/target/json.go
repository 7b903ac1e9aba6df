package target

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// field is one JSON key of an event kind: how to write it and how to read
// it back. One table (eventFields) drives MarshalJSON and UnmarshalJSON,
// so the two cannot disagree.
type field struct {
	key      string
	optional bool // omitted when zero (exit's "killed")
	// omit, if set, says the key is absent from this event (decided from
	// keys read before it: a production enclave's AEX has no "rip").
	omit func(e *Event) bool
	enc  func(e *Event) any
	dec  func(e *Event, r *reader)
}

func hexField(key string, p func(*Event) *uint64) field {
	return field{key: key,
		enc: func(e *Event) any { return hexAddr(*p(e)) },
		dec: func(e *Event, r *reader) { *p(e) = r.hex(key, 64) }}
}

func intField(key string, p func(*Event) *int) field {
	return field{key: key,
		enc: func(e *Event) any { return *p(e) },
		dec: func(e *Event, r *reader) { *p(e) = int(r.int(key)) }}
}

func boolField(key string, p func(*Event) *bool) field {
	return field{key: key,
		enc: func(e *Event) any { return *p(e) },
		dec: func(e *Event, r *reader) { *p(e) = r.bool(key) }}
}

func digestField(key string, p func(*Event) *[32]byte) field {
	return field{key: key,
		enc: func(e *Event) any { return hex.EncodeToString(p(e)[:]) },
		dec: func(e *Event, r *reader) { *p(e) = r.digest(key) }}
}

var (
	fPid     = intField("pid", func(e *Event) *int { return &e.Pid })
	fTid     = intField("tid", func(e *Event) *int { return &e.Tid })
	fEnclave = hexField("enclave", func(e *Event) *uint64 { return &e.Enclave })
	fTCS     = hexField("tcs", func(e *Event) *uint64 { return &e.TCS })
	fCSSA    = debugOnly(intField("cssa", func(e *Event) *int { return &e.CSSA }))
	fRIP     = hexField("rip", func(e *Event) *uint64 { return &e.RIP })
	// fProduction marks a production enclave's events; read before the
	// keys it omits.
	fProduction = field{key: "production", optional: true,
		enc: func(e *Event) any {
			if !e.Production {
				return nil
			}
			return true
		},
		dec: func(e *Event, r *reader) {
			if e.Production = r.bool("production"); !e.Production {
				r.fail("production", fmt.Errorf("present but false"))
			}
		}}
	fVector = field{key: "vector",
		enc: func(e *Event) any { return uint8(e.Vector) },
		dec: func(e *Event, r *reader) { e.Vector = sgx.Vector(r.uint("vector", 8)) }}
	// vector_name is derived from vector (and valid); reading checks it.
	fVectorName = field{key: "vector_name",
		enc: func(e *Event) any { return e.VectorName() },
		dec: func(e *Event, r *reader) { r.derived("vector_name", e.VectorName()) }}
	fDelivery = field{key: "signal",
		enc: func(e *Event) any { return e.Delivery.String() },
		dec: func(e *Event, r *reader) {
			d, err := ParseDelivery(r.str("signal"))
			r.fail("signal", err)
			e.Delivery = d
		}}
)

// eventFields lists, per kind, every key of its JSON form besides "event",
// in the order the keys are read (later keys may check earlier ones).
var eventFields = map[EventKind][]field{
	EvEnclaveCreated: {fPid, fEnclave,
		hexField("size", func(e *Event) *uint64 { return &e.Size }),
		{key: "ssa_frame_size",
			enc: func(e *Event) any { return e.SSAFrameSize },
			dec: func(e *Event, r *reader) { e.SSAFrameSize = uint32(r.uint("ssa_frame_size", 32)) }},
		{key: "miscselect",
			enc: func(e *Event) any { return hexAddr(uint64(e.MiscSelect)) },
			dec: func(e *Event, r *reader) { e.MiscSelect = sgx.MiscSelect(r.hex("miscselect", 32)) }},
		{key: "attributes",
			enc: func(e *Event) any { return hexAddr(uint64(e.Attributes.Flags)) },
			dec: func(e *Event, r *reader) { e.Attributes.Flags = sgx.AttributeFlags(r.hex("attributes", 64)) }},
		hexField("xfrm", func(e *Event) *uint64 { return &e.Attributes.XFRM }),
	},
	EvPagesAdded: {fEnclave,
		hexField("offset", func(e *Event) *uint64 { return &e.Offset }),
		hexField("length", func(e *Event) *uint64 { return &e.Length }),
		{key: "secinfo",
			enc: func(e *Event) any { return hexAddr(uint64(e.Secinfo)) },
			dec: func(e *Event, r *reader) { e.Secinfo = sgx.SecinfoFlags(r.hex("secinfo", 64)) }},
		boolField("measure", func(e *Event) *bool { return &e.Measure }),
	},
	EvEnclaveInitialized: {fEnclave,
		digestField("mrenclave", func(e *Event) *[32]byte { return &e.MRENCLAVE }),
		digestField("mrsigner", func(e *Event) *[32]byte { return &e.MRSIGNER }),
	},
	EvEENTER:  {fProduction, fTid, fTCS, fCSSA},
	EvERESUME: {fProduction, fTid, fTCS, fCSSA},
	EvEEXIT:   {fTid, fTCS},
	EvAEX: {fProduction, fTid, fEnclave, fTCS,
		debugOnly(intField("ssa", func(e *Event) *int { return &e.SSA })),
		fCSSA,
		boolField("valid", func(e *Event) *bool { return &e.Valid }),
		fVector, fVectorName,
		{key: "exit_type",
			enc: func(e *Event) any { return e.ExitTypeName() },
			dec: func(e *Event, r *reader) {
				switch s := r.str("exit_type"); {
				case !e.Valid && s == "none":
				case e.Valid && s == sgx.ExitHardware.String():
					e.ExitType = sgx.ExitHardware
				case e.Valid && s == sgx.ExitSoftware.String():
					e.ExitType = sgx.ExitSoftware
				default:
					r.fail("exit_type", fmt.Errorf("%q does not fit valid=%v", s, e.Valid))
				}
			}},
		withOmit(hexField("maddr", func(e *Event) *uint64 { return &e.MAddr }), func(e *Event) bool { return e.Production && !e.hasPage() }),
		{key: "errcd", omit: func(e *Event) bool { return e.Production && !e.hasErrCd() },
			enc: func(e *Event) any { return hexAddr(uint64(e.ErrCd)) },
			dec: func(e *Event, r *reader) { e.ErrCd = uint32(r.hex("errcd", 32)) }},
		debugOnly(fRIP),
		hexField("aep", func(e *Event) *uint64 { return &e.AEP }),
		fDelivery,
	},
	EvENCLUFault: {fTid, fTCS,
		{key: "leaf",
			enc: func(e *Event) any { return e.Leaf.String() },
			dec: func(e *Event, r *reader) {
				// EENTER or ERESUME failing their checks, or any leaf
				// raising #GP(0): undefined, or not EENTER/ERESUME outside
				// an enclave ("EncluLeaf(12)" for an undefined number).
				s := r.str("leaf")
				for l := sgx.EncluLeaf(0); l <= sgx.LeafEDECCSSA; l++ {
					if l.String() == s {
						e.Leaf = l
						return
					}
				}
				if n, ok := strings.CutPrefix(s, "EncluLeaf("); ok && strings.HasSuffix(n, ")") {
					if v, err := strconv.ParseUint(strings.TrimSuffix(n, ")"), 10, 32); err == nil && v > uint64(sgx.LeafEDECCSSA) {
						e.Leaf = sgx.EncluLeaf(v)
						return
					}
				}
				r.fail("leaf", fmt.Errorf("%q is not an ENCLU leaf", s))
			}},
		fVector, fVectorName,
		{key: "reason",
			enc: func(e *Event) any { return e.Reason },
			dec: func(e *Event, r *reader) { e.Reason = r.str("reason") }},
		fRIP, fDelivery,
	},
	EvEnclaveRemoved: {fPid, fEnclave},
	EvInterrupt:      {fPid, fTid, fRIP},
	EvPagesChanged: {fTid, fEnclave,
		hexField("offset", func(e *Event) *uint64 { return &e.Offset }),
		hexField("length", func(e *Event) *uint64 { return &e.Length }),
		{key: "secinfo",
			enc: func(e *Event) any { return hexAddr(uint64(e.Secinfo)) },
			dec: func(e *Event, r *reader) { e.Secinfo = sgx.SecinfoFlags(r.hex("secinfo", 64)) }},
		{key: "reason",
			enc: func(e *Event) any { return e.Reason },
			dec: func(e *Event, r *reader) { e.Reason = r.str("reason") }},
	},
	EvCPUIDRewritten: {fPid, fEnclave, fRIP,
		{key: "reason",
			enc: func(e *Event) any { return e.Reason },
			dec: func(e *Event, r *reader) { e.Reason = r.str("reason") }},
	},
	EvExit: {fPid,
		intField("status", func(e *Event) *int { return &e.Status }),
		{key: "killed", optional: true,
			enc: func(e *Event) any {
				if e.Killed == 0 {
					return nil
				}
				return unix.SignalName(e.Killed)
			},
			dec: func(e *Event, r *reader) {
				s := r.str("killed")
				if e.Killed = unix.SignalNum(s); e.Killed == 0 {
					r.fail("killed", fmt.Errorf("%q is not a signal name", s))
				}
			}},
	},
}

func hexAddr(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// withOmit returns f with an omit rule.
func withOmit(f field, omit func(e *Event) bool) field {
	f.omit = omit
	return f
}

// debugOnly returns f, absent from a production enclave's events.
func debugOnly(f field) field {
	return withOmit(f, func(e *Event) bool { return e.Production })
}

// MarshalJSON renders the event as one flat object with snake_case keys,
// addresses, sizes and bit fields as hex strings, counts as numbers.
func (e Event) MarshalJSON() ([]byte, error) {
	fs, ok := eventFields[e.Kind]
	if !ok {
		return nil, fmt.Errorf("event kind %q has no JSON form", e.Kind)
	}
	m := map[string]any{"event": string(e.Kind)}
	for _, f := range fs {
		if f.omit != nil && f.omit(&e) {
			continue
		}
		v := f.enc(&e)
		if f.optional && v == nil {
			continue
		}
		m[f.key] = v
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads one event in the form MarshalJSON writes: every key
// that form has for the event's kind must be present with its type, and
// derived keys (vector_name) must agree with the others.
func (e *Event) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r := &reader{m: m}
	ev := Event{Kind: EventKind(r.str("event"))}
	if r.err != nil {
		return r.err
	}
	fs, ok := eventFields[ev.Kind]
	if !ok {
		return fmt.Errorf("unknown event kind %q", ev.Kind)
	}
	for _, f := range fs {
		_, present := m[f.key]
		if f.omit != nil && f.omit(&ev) {
			if present {
				r.fail(f.key, errors.New("not allowed in a production enclave's event"))
			}
			continue
		}
		if f.optional && !present {
			continue
		}
		f.dec(&ev, r)
	}
	if r.err != nil {
		return r.err
	}
	*e = ev
	return nil
}

// reader reads typed values from a JSON object, keeping the first error.
type reader struct {
	m   map[string]json.RawMessage
	err error
}

func (r *reader) fail(key string, err error) {
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%q: %w", key, err)
	}
}

func (r *reader) get(key string, v any) bool {
	if r.err != nil {
		return false
	}
	raw, ok := r.m[key]
	if !ok {
		r.err = fmt.Errorf("no %q", key)
		return false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		r.fail(key, err)
		return false
	}
	return true
}

func (r *reader) str(key string) string {
	var s string
	r.get(key, &s)
	return s
}

func (r *reader) bool(key string) bool {
	var b bool
	r.get(key, &b)
	return b
}

func (r *reader) derived(key, want string) {
	if s := r.str(key); r.err == nil && s != want {
		r.fail(key, fmt.Errorf("%q disagrees with the other fields (%q)", s, want))
	}
}

// number returns the JSON number at key, refusing a quoted string (which
// json.Number would accept).
func (r *reader) number(key string) (string, bool) {
	var n json.Number
	if !r.get(key, &n) {
		return "", false
	}
	if raw := bytes.TrimSpace(r.m[key]); len(raw) > 0 && raw[0] == '"' {
		r.fail(key, fmt.Errorf("%s is a string, not a number", raw))
		return "", false
	}
	return n.String(), true
}

func (r *reader) uint(key string, bits int) uint64 {
	n, ok := r.number(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseUint(n, 10, bits)
	r.fail(key, err)
	return v
}

func (r *reader) int(key string) int64 {
	n, ok := r.number(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(n, 10, 32)
	r.fail(key, err)
	return v
}

func (r *reader) hex(key string, bits int) uint64 {
	s := r.str(key)
	if r.err != nil {
		return 0
	}
	if len(s) < 3 || s[:2] != "0x" {
		r.fail(key, fmt.Errorf("%q is not 0x-prefixed hex", s))
		return 0
	}
	v, err := strconv.ParseUint(s[2:], 16, bits)
	r.fail(key, err)
	return v
}

func (r *reader) digest(key string) [32]byte {
	var d [32]byte
	s := r.str(key)
	if r.err != nil {
		return d
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(d) {
		r.fail(key, fmt.Errorf("%q is not 64 hex digits", s))
		return d
	}
	copy(d[:], b)
	return d
}
