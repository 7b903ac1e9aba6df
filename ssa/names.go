package ssa

import "strconv"

// intName pairs a value with its name, like debug/elf's name tables.
type intName struct {
	i uint64
	s string
}

// flagName renders a bit set as NAME+NAME+0x…, unknown bits in hex.
// A zero value prints as "0".
func flagName(i uint64, names []intName) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for _, n := range names {
		if n.i != 0 && n.i&i == n.i {
			if s != "" {
				s += "+"
			}
			s += n.s
			i &^= n.i
		}
	}
	if i != 0 {
		if s != "" {
			s += "+"
		}
		s += "0x" + strconv.FormatUint(i, 16)
	}
	return s
}

// hex formats v in lower-case hex without a prefix.
func hex(v uint64) string { return strconv.FormatUint(v, 16) }
