package sgx

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// CMACSize is the size of an AES-CMAC tag and of the keys EGETKEY returns.
const CMACSize = 16

// CMAC computes AES-CMAC (NIST SP 800-38B; RFC 4493 for AES-128) of msg
// under key, which must be 16, 24 or 32 bytes. SGX uses AES-128-CMAC for
// the REPORT MAC and for key derivation.
func CMAC(key, msg []byte) ([CMACSize]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return [CMACSize]byte{}, fmt.Errorf("AES-CMAC: %w", err)
	}
	return cmacBlock(b, msg), nil
}

// VerifyCMAC reports whether mac is the AES-CMAC of msg under key, in
// constant time.
func VerifyCMAC(key, msg []byte, mac [CMACSize]byte) (bool, error) {
	want, err := CMAC(key, msg)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want[:], mac[:]) == 1, nil
}

// cmacBlock is CMAC over a 128-bit block cipher (SP 800-38B §6.2): the
// subkeys K1 = dbl(E(0)), K2 = dbl(K1); the last block, if complete, is
// XORed with K1, otherwise padded with 10* and XORed with K2.
func cmacBlock(b cipher.Block, msg []byte) [CMACSize]byte {
	var l, k1, k2 [CMACSize]byte
	b.Encrypt(l[:], l[:])
	k1 = dbl(l)
	k2 = dbl(k1)

	n := (len(msg) + CMACSize - 1) / CMACSize
	complete := n > 0 && len(msg)%CMACSize == 0
	if n == 0 {
		n = 1
	}
	var x [CMACSize]byte
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x[:], x[:], msg[i*CMACSize:(i+1)*CMACSize])
		b.Encrypt(x[:], x[:])
	}
	var last [CMACSize]byte
	rest := msg[(n-1)*CMACSize:]
	copy(last[:], rest)
	if complete {
		subtle.XORBytes(last[:], last[:], k1[:])
	} else {
		last[len(rest)] = 0x80
		subtle.XORBytes(last[:], last[:], k2[:])
	}
	subtle.XORBytes(x[:], x[:], last[:])
	b.Encrypt(x[:], x[:])
	return x
}

// dbl multiplies a 128-bit big-endian value by x in GF(2^128) with the
// polynomial x^128 + x^7 + x^2 + x + 1 (R = 0x87).
func dbl(v [CMACSize]byte) [CMACSize]byte {
	var out [CMACSize]byte
	carry := v[0] >> 7
	for i := 0; i < CMACSize-1; i++ {
		out[i] = v[i]<<1 | v[i+1]>>7
	}
	out[CMACSize-1] = v[CMACSize-1] << 1
	out[CMACSize-1] ^= 0x87 * carry
	return out
}
