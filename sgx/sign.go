package sgx

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"
)

// SigStructKeyBits is the RSA modulus size EINIT accepts.
const SigStructKeyBits = 3072

// ErrKey reports a signing key that is not RSA-3072 with e = 3.
var ErrKey = errors.New("SIGSTRUCT key must be RSA-3072 with public exponent 3")

// GenerateKey returns a new RSA-3072 key with e = 3, the only kind EINIT
// accepts. crypto/rsa.GenerateKey always picks e = 65537, so the primes
// are drawn here: 1536-bit primes p ≡ q ≡ 2 (mod 3), so that 3 is prime to
// (p−1)(q−1). Random bytes come from r (crypto/rand.Reader when nil); r is
// really used, unlike crypto/rsa.GenerateKey's since Go 1.26.
func GenerateKey(r io.Reader) (*rsa.PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	p, err := prime3(r, SigStructKeyBits/2)
	if err != nil {
		return nil, err
	}
	var q *big.Int
	for q == nil || q.Cmp(p) == 0 {
		if q, err = prime3(r, SigStructKeyBits/2); err != nil {
			return nil, err
		}
	}
	one := big.NewInt(1)
	pm1 := new(big.Int).Sub(p, one)
	qm1 := new(big.Int).Sub(q, one)
	phi := new(big.Int).Mul(pm1, qm1)
	d := new(big.Int).ModInverse(big.NewInt(SigStructRSAExp), phi)
	if d == nil {
		return nil, errors.New("generate key: 3 not invertible modulo phi")
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: SigStructRSAExp},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	key.Precompute()
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

// prime3 returns a prime of exactly bits bits (top two bits set, so a
// product of two has exactly 2*bits bits) that is 2 mod 3.
func prime3(r io.Reader, bits int) (*big.Int, error) {
	buf := make([]byte, bits/8)
	three := big.NewInt(3)
	p, m := new(big.Int), new(big.Int)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("generate key: read random: %w", err)
		}
		buf[0] |= 0xC0
		buf[len(buf)-1] |= 1
		p.SetBytes(buf)
		if m.Mod(p, three).Int64() != 2 {
			continue
		}
		if p.ProbablyPrime(20) {
			return new(big.Int).Set(p), nil
		}
	}
}

// checkKey returns ErrKey, wrapped, unless pub is RSA-3072 with e = 3.
func checkKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return fmt.Errorf("%w: no key", ErrKey)
	}
	if pub.N.BitLen() != SigStructKeyBits || pub.E != SigStructRSAExp {
		return fmt.Errorf("%w: got %d bits, e = %d", ErrKey, pub.N.BitLen(), pub.E)
	}
	return nil
}

// BCDDate encodes a date as SIGSTRUCT.DATE: yyyymmdd, one decimal digit
// per nibble (2026-11-24 → 0x20261124).
func BCDDate(t time.Time) (uint32, error) {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return 0, fmt.Errorf("SIGSTRUCT date: year %d has more than four digits", y)
	}
	v := uint32(0)
	for _, n := range []int{y / 1000, y / 100 % 10, y / 10 % 10, y % 10, int(m) / 10, int(m) % 10, d / 10, d % 10} {
		v = v<<4 | uint32(n)
	}
	return v, nil
}

// Sign signs s with key as an enclave signer does: it sets DATE (from
// date, in date's location), MODULUS and EXPONENT, then SIGNATURE =
// RSASSA-PKCS1-v1_5 with SHA-256 over SignedBytes, and Q1, Q2. Every
// number is stored little-endian. The key must be RSA-3072 with e = 3.
func Sign(s *SigStruct, key *rsa.PrivateKey, date time.Time) error {
	if key == nil {
		return fmt.Errorf("sign SIGSTRUCT: %w: no key", ErrKey)
	}
	if err := checkKey(&key.PublicKey); err != nil {
		return fmt.Errorf("sign SIGSTRUCT: %w", err)
	}
	bcd, err := BCDDate(date)
	if err != nil {
		return fmt.Errorf("sign SIGSTRUCT: %w", err)
	}
	s.Date = bcd
	s.Exponent = SigStructRSAExp
	putLE(s.Modulus[:], key.N)
	digest := sha256.Sum256(s.SignedBytes())
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return fmt.Errorf("sign SIGSTRUCT: %w", err)
	}
	sv := new(big.Int).SetBytes(sig)
	putLE(s.Signature[:], sv)
	q1, q2 := sigQ(sv, key.N)
	putLE(s.Q1[:], q1)
	putLE(s.Q2[:], q2)
	return nil
}

// sigQ returns Q1 = ⌊S²/M⌋ and Q2 = ⌊S·(S² mod M)/M⌋, the helper values
// EINIT uses to check S³ mod M. m must be positive.
func sigQ(s, m *big.Int) (q1, q2 *big.Int) {
	s2 := new(big.Int).Mul(s, s)
	q1, r1 := new(big.Int).QuoRem(s2, m, new(big.Int))
	q2 = new(big.Int).Quo(r1.Mul(r1, s), m)
	return q1, q2
}

// VerifySignature checks the signature as EINIT does: EXPONENT must be 3
// (else SGX_INVALID_SIG_STRUCT); SIGNATURE must be a valid RSASSA-PKCS1-v1_5
// SHA-256 signature of SignedBytes under the embedded MODULUS, and Q1 and
// Q2 must be the values derived from it (else SGX_INVALID_SIGNATURE). It
// returns nil or an *EINITError.
func (s *SigStruct) VerifySignature() error {
	if s.Exponent != SigStructRSAExp {
		return &EINITError{Code: ErrInvalidSigStruct, Check: fmt.Sprintf("EXPONENT %d != 3", s.Exponent)}
	}
	m := leInt(s.Modulus[:])
	sig := leInt(s.Signature[:])
	pub := &rsa.PublicKey{N: m, E: SigStructRSAExp}
	digest := sha256.Sum256(s.SignedBytes())
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig.FillBytes(make([]byte, 384))); err != nil {
		return &EINITError{Code: ErrInvalidSignature, Check: "SIGNATURE does not verify with the embedded MODULUS: " + err.Error()}
	}
	q1, q2 := sigQ(sig, m)
	if q1.Cmp(leInt(s.Q1[:])) != 0 {
		return &EINITError{Code: ErrInvalidSignature, Check: "Q1 != floor(SIGNATURE^2 / MODULUS)"}
	}
	if q2.Cmp(leInt(s.Q2[:])) != 0 {
		return &EINITError{Code: ErrInvalidSignature, Check: "Q2 != floor(SIGNATURE * (SIGNATURE^2 mod MODULUS) / MODULUS)"}
	}
	return nil
}

// leInt reads a little-endian unsigned number.
func leInt(b []byte) *big.Int {
	be := slices.Clone(b)
	slices.Reverse(be)
	return new(big.Int).SetBytes(be)
}

// putLE stores v little-endian in b, which is large enough (v < 2^3072).
func putLE(b []byte, v *big.Int) {
	v.FillBytes(b)
	slices.Reverse(b)
}
