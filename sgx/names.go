package sgx

import "strconv"

// intName pairs a value with its name, like debug/elf's name tables.
type intName struct {
	i uint64
	s string
}

// stringName returns the name of i from names, or prefix+decimal for an
// unknown value ("Vector(99)").
func stringName(i uint64, names []intName, prefix string) string {
	for _, n := range names {
		if n.i == i {
			return n.s
		}
	}
	return prefix + "(" + strconv.FormatUint(i, 10) + ")"
}

// flagName renders a bit set as NAME+NAME+0x…, the remainder in hex.
// A zero value prints as "0".
func flagName(i uint64, names []intName) string {
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
	if s == "" && i == 0 {
		return "0"
	}
	if i != 0 {
		if s != "" {
			s += "+"
		}
		s += "0x" + strconv.FormatUint(i, 16)
	}
	return s
}
