package sgx

import (
	"encoding/binary"
	"strconv"
)

// putU64s stores vs as consecutive little-endian quadwords at b[0:].
func putU64s(b []byte, vs ...uint64) {
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
}

// getU64s loads consecutive little-endian quadwords from b[0:] into ps.
func getU64s(b []byte, ps ...*uint64) {
	for i, p := range ps {
		*p = binary.LittleEndian.Uint64(b[8*i:])
	}
}

func hex64(v uint64) string { return strconv.FormatUint(v, 16) }

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
