package debugger

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Policy says at which events a session stops. The zero value stops at
// every AEX and nowhere else.
type Policy struct {
	NoAEX      bool                // do not stop at AEXs at all
	Vectors    map[sgx.Vector]bool // if non-empty, stop only at AEXs with these vectors
	EENTER     bool                // stop after every EENTER
	EEXIT      bool                // stop after every EEXIT
	ERESUME    bool                // stop after every ERESUME
	ENCLUFault bool                // stop at every EENTER/ERESUME that faults
}

// Stops reports whether the policy stops at ev.
func (p Policy) Stops(ev target.Event) bool {
	switch ev.Kind {
	case target.EvAEX:
		if p.NoAEX {
			return false
		}
		return len(p.Vectors) == 0 || ev.Valid && p.Vectors[ev.Vector]
	case target.EvEENTER:
		return p.EENTER
	case target.EvEEXIT:
		return p.EEXIT
	case target.EvERESUME:
		return p.ERESUME
	case target.EvENCLUFault:
		return p.ENCLUFault
	}
	return false
}

// String renders the policy in the stop-on command's words.
func (p Policy) String() string {
	var parts []string
	switch {
	case p.NoAEX:
	case len(p.Vectors) == 0:
		parts = append(parts, "aex")
	default:
		var vs []string
		for v := range p.Vectors {
			vs = append(vs, sgx.Vector(v).String())
		}
		sort.Strings(vs)
		parts = append(parts, "aex "+strings.Join(vs, ","))
	}
	if p.EENTER {
		parts = append(parts, "eenter")
	}
	if p.EEXIT {
		parts = append(parts, "eexit")
	}
	if p.ERESUME {
		parts = append(parts, "eresume")
	}
	if p.ENCLUFault {
		parts = append(parts, "enclu-fault")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// ParsePolicy reads the stop-on words: "aex", "aex #PF,#UD" (or vector
// numbers), "eenter", "eexit", "eresume", "all", "none".
func ParsePolicy(words []string) (Policy, error) {
	p := Policy{NoAEX: true}
	for i := 0; i < len(words); i++ {
		switch w := strings.ToLower(words[i]); w {
		case "none":
			p = Policy{NoAEX: true}
		case "all":
			p = Policy{EENTER: true, EEXIT: true, ERESUME: true, ENCLUFault: true}
		case "aex":
			p.NoAEX, p.Vectors = false, nil
			if i+1 < len(words) && !isPolicyWord(words[i+1]) {
				i++
				p.Vectors = map[sgx.Vector]bool{}
				for _, v := range strings.Split(words[i], ",") {
					n, err := parseVector(v)
					if err != nil {
						return Policy{}, err
					}
					p.Vectors[n] = true
				}
			}
		case "eenter":
			p.EENTER = true
		case "eexit":
			p.EEXIT = true
		case "eresume":
			p.ERESUME = true
		case "enclu-fault":
			p.ENCLUFault = true
		case "":
			return Policy{}, errorf(ErrUsage, "stop-on: empty word (want aex [VECTORS], eenter, eexit, eresume, enclu-fault, all or none)")
		default:
			return Policy{}, errorf(ErrUsage, "stop-on: unknown event %q (want aex [VECTORS], eenter, eexit, eresume, enclu-fault, all or none)", words[i])
		}
	}
	return p, nil
}

func isPolicyWord(w string) bool {
	switch strings.ToLower(w) {
	case "none", "all", "aex", "eenter", "eexit", "eresume", "enclu-fault":
		return true
	}
	return false
}

func parseVector(s string) (sgx.Vector, error) {
	for v := sgx.Vector(0); v < 32; v++ {
		if strings.EqualFold(v.String(), s) || strings.EqualFold(strings.TrimPrefix(v.String(), "#"), s) {
			return v, nil
		}
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil || n > 31 {
		return 0, errorf(ErrUsage, "stop-on: %q is not an exception vector (#PF, PF or 14)", s)
	}
	return sgx.Vector(n), nil
}
