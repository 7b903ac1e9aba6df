package main

// The enclave image commands: keygen, measure, sign and verify.

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/inputfile"
	"github.com/sgxdbg/sgxdbg/internal/outputfile"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/spf13/cobra"
)

// measureJSON is the --json output of measure, and the image part of
// verify's.
type measureJSON struct {
	MRENCLAVE    string `json:"mrenclave"`
	MRSIGNER     string `json:"mrsigner,omitempty"` // verify only
	Size         string `json:"size"`
	SSAFrameSize uint32 `json:"ssa_frame_size"`
	Pages        int    `json:"pages"`
	Attributes   string `json:"attributes"`
	XFRM         string `json:"xfrm"`
}

// verifyJSON is the --json output of verify.
type verifyJSON struct {
	measureJSON
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"` // the SGX error name EINIT would return
	Check string `json:"check,omitempty"` // the failing check, in words
}

// signJSON is the --json output of sign.
type signJSON struct {
	MRENCLAVE string `json:"mrenclave"`
	MRSIGNER  string `json:"mrsigner"`
	Date      string `json:"date"`
	SigStruct string `json:"sigstruct"` // the file written
}

// dateLayout is the --date format and the date sign and verify print.
const dateLayout = "2006-01-02"

func newKeygenCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen [--force] KEY.pem",
		Short: "Generate an enclave signing key (RSA-3072, e = 3)",
		Long: `keygen writes a new RSA-3072 private key with public exponent 3, the only
kind EINIT accepts, to KEY.pem as PKCS#1 PEM with mode 0600. It refuses to
overwrite an existing file unless --force is given (the file is then
replaced whole, mode 0600); a symbolic link is never followed or replaced.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keygen(args[0], force); err != nil {
				return fmt.Errorf("keygen %s: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace KEY.pem if it exists")
	return cmd
}

// keygen writes a new signing key to path, which must not exist unless
// force.
func keygen(path string, force bool) error {
	f, err := outputfile.Create(path, outputfile.Options{Mode: 0o600, Force: force})
	if err != nil {
		return err
	}
	key, err := sgx.GenerateKey(nil)
	if err != nil {
		f.Abort()
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

// measureOptions are measure's flags.
type measureOptions struct {
	json bool
}

func newMeasureCmd() *cobra.Command {
	var o measureOptions
	cmd := &cobra.Command{
		Use:   "measure [--json] ENCLAVE.elf",
		Short: "Print an enclave image's MRENCLAVE",
		Long: `measure computes the MRENCLAVE that EINIT will see for ENCLAVE.elf: the
ECREATE record, then EADD and EEXTEND of every page in offset order.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.run(cmd.OutOrStdout(), args[0]); err != nil {
				return fmt.Errorf("measure %s: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func (o *measureOptions) run(w io.Writer, path string) error {
	im, mr, err := openMeasured(path)
	if err != nil {
		return err
	}
	defer im.Close()
	if o.json {
		return writeJSON(w, imageJSON(im, mr))
	}
	_, err = fmt.Fprintf(w, "%x\n", mr)
	return err
}

// openMeasured opens an image and computes its MRENCLAVE.
func openMeasured(path string) (*enclave.Image, [32]byte, error) {
	im, err := enclave.Open(path)
	if err != nil {
		return nil, [32]byte{}, err
	}
	mr, err := im.MRENCLAVE()
	if err != nil {
		im.Close()
		return nil, [32]byte{}, err
	}
	return im, mr, nil
}

// imageJSON describes an image on the wire.
func imageJSON(im *enclave.Image, mr [32]byte) measureJSON {
	return measureJSON{
		MRENCLAVE:    hex.EncodeToString(mr[:]),
		Size:         fmt.Sprintf("%#x", im.Size),
		SSAFrameSize: im.SSAFrameSize,
		Pages:        len(im.Pages),
		Attributes:   fmt.Sprintf("%#x", uint64(im.Attributes.Flags)),
		XFRM:         fmt.Sprintf("%#x", im.Attributes.XFRM),
	}
}

// signOptions are sign's flags.
type signOptions struct {
	key   string
	out   string
	date  string
	json  bool
	force bool
}

func newSignCmd() *cobra.Command {
	var o signOptions
	cmd := &cobra.Command{
		Use:   "sign --key KEY.pem [-o OUT] [--force] [--date YYYY-MM-DD] [--json] ENCLAVE.elf",
		Short: "Write the SIGSTRUCT of an enclave image",
		Long: `sign builds the SIGSTRUCT of ENCLAVE.elf (ENCLAVEHASH = its MRENCLAVE;
ATTRIBUTES, ATTRIBUTEMASK, MISCSELECT, MISCMASK, ISVPRODID and ISVSVN from
its NT_SGXDBG_ENCLAVE note), signs it with KEY.pem and writes the 1808 bytes
to OUT (ENCLAVE.elf.sig by default). The date is today's unless --date is
given; with --date the output is reproducible. OUT must not exist unless
--force is given (it is then replaced whole); a symbolic link is never
followed or replaced.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.run(cmd.OutOrStdout(), args[0]); err != nil {
				return fmt.Errorf("sign %s: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.key, "key", "", "signing key, PEM (required)")
	cmd.Flags().StringVarP(&o.out, "output", "o", "", "SIGSTRUCT file (default ENCLAVE.elf.sig)")
	cmd.Flags().StringVar(&o.date, "date", "", "SIGSTRUCT DATE, YYYY-MM-DD (default today)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace OUT if it exists")
	cmd.MarkFlagRequired("key")
	return cmd
}

func (o *signOptions) run(w io.Writer, path string) error {
	date := time.Now()
	if o.date != "" {
		d, err := time.Parse(dateLayout, o.date)
		if err != nil {
			return fmt.Errorf("--date: %w", err)
		}
		date = d
	}
	key, err := readKey(o.key)
	if err != nil {
		return err
	}
	im, mr, err := openMeasured(path)
	if err != nil {
		return err
	}
	defer im.Close()
	sig := sgx.NewSigStruct()
	sig.EnclaveHash = mr
	sig.Attributes, sig.AttributeMask = im.Attributes, im.AttributeMask
	sig.MiscSelect, sig.MiscMask = im.MiscSelect, im.MiscMask
	sig.ISVProdID, sig.ISVSVN = im.ISVProdID, im.ISVSVN
	if err := sgx.Sign(sig, key, date); err != nil {
		return err
	}
	// Refuse to write what EINIT would reject.
	secs := im.SECS(0)
	if err := sgx.CheckEINIT(&secs, mr, sig); err != nil {
		return fmt.Errorf("the new SIGSTRUCT fails EINIT's checks: %w", err)
	}
	b, err := sig.MarshalBinary()
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = path + ".sig"
	}
	f, err := outputfile.Create(out, outputfile.Options{Mode: 0o644, Force: o.force})
	if err != nil {
		return err
	}
	f.Write(b)
	if err := f.Close(); err != nil {
		return err
	}
	signer := sig.MRSIGNER()
	if o.json {
		return writeJSON(w, signJSON{MRENCLAVE: hex.EncodeToString(mr[:]), MRSIGNER: hex.EncodeToString(signer[:]),
			Date: date.Format(dateLayout), SigStruct: out})
	}
	_, err = fmt.Fprintf(w, "wrote %s\nMRENCLAVE  %x\nMRSIGNER   %x\nDATE       %s\n", out, mr, signer, date.Format(dateLayout))
	return err
}

// readKey reads an RSA private key from a PKCS#1 or PKCS#8 PEM file.
func readKey(path string) (*rsa.PrivateKey, error) {
	b, err := inputfile.ReadFile(path, inputfile.SigningKey)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return key, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		key, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T, not an RSA key", path, k)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%s: PEM block %q is not a private key", path, block.Type)
}

// verifyOptions are verify's flags.
type verifyOptions struct {
	json bool
}

func newVerifyCmd() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify [--json] ENCLAVE.elf [SIG]",
		Short: "Check a SIGSTRUCT against an enclave image as EINIT would",
		Long: `verify decodes SIG (ENCLAVE.elf.sig by default) and makes EINIT's checks
against the SECS and MRENCLAVE of ENCLAVE.elf: the SIGSTRUCT constants, the
signature, ENCLAVEHASH, and ATTRIBUTES and MISCSELECT under their masks. It
prints the identities and the verdict, and exits 1 with the SGX error name
and the failing check when EINIT would fail.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sigPath := args[0] + ".sig"
			if len(args) == 2 {
				sigPath = args[1]
			}
			ok, err := o.run(cmd.OutOrStdout(), args[0], sigPath)
			if err != nil {
				return fmt.Errorf("verify %s: %w", args[0], err)
			}
			if !ok {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// run prints the verdict; ok reports whether EINIT would succeed.
func (o *verifyOptions) run(w io.Writer, path, sigPath string) (ok bool, err error) {
	im, mr, err := openMeasured(path)
	if err != nil {
		return false, err
	}
	defer im.Close()
	b, err := inputfile.ReadFile(sigPath, inputfile.SigStruct)
	if err != nil {
		return false, err
	}
	if len(b) != sgx.SigStructSize {
		return false, fmt.Errorf("%s: %d bytes, a SIGSTRUCT has %d", sigPath, len(b), sgx.SigStructSize)
	}
	secs := im.SECS(0)
	sig, verr := sgx.CheckEINITBytes(&secs, mr, b)
	var einit *sgx.EINITError
	if verr != nil && !errors.As(verr, &einit) {
		return false, fmt.Errorf("%s: %w", sigPath, verr)
	}
	// MRSIGNER = SHA-256 of the stored modulus, even when the rest does not decode.
	signer := sha256.Sum256(b[128 : 128+384])
	if o.json {
		v := verifyJSON{measureJSON: imageJSON(im, mr), OK: einit == nil}
		v.MRSIGNER = hex.EncodeToString(signer[:])
		if einit != nil {
			v.Error, v.Check = einit.Code.String(), einit.Check
		}
		return einit == nil, writeJSON(w, v)
	}
	return einit == nil, printVerify(w, im, mr, signer, sig, einit)
}

// printVerify writes verify's text report.
func printVerify(w io.Writer, im *enclave.Image, mr, signer [32]byte, sig *sgx.SigStruct, einit *sgx.EINITError) error {
	ew := &errWriter{w: w}
	ew.printf("MRENCLAVE   %x\n", mr)
	ew.printf("MRSIGNER    %x\n", signer)
	ew.printf("ATTRIBUTES  %#x %v  XFRM %#x\n", uint64(im.Attributes.Flags), im.Attributes.Flags, im.Attributes.XFRM)
	ew.printf("MISCSELECT  %#x %v\n", uint32(im.MiscSelect), im.MiscSelect)
	if sig != nil {
		ew.printf("SIGSTRUCT   ATTRIBUTES %#x XFRM %#x, mask %#x XFRM %#x; MISCSELECT %#x, mask %#x\n",
			uint64(sig.Attributes.Flags), sig.Attributes.XFRM, uint64(sig.AttributeMask.Flags), sig.AttributeMask.XFRM,
			uint32(sig.MiscSelect), sig.MiscMask)
		ew.printf("ISVPRODID   %d\nISVSVN      %d\n", sig.ISVProdID, sig.ISVSVN)
		ew.printf("DATE        %s\n", bcdDate(sig.Date))
	}
	if einit != nil {
		ew.printf("verdict     FAIL %v: %s\n", einit.Code, einit.Check)
	} else {
		ew.printf("verdict     OK: EINIT would accept this SIGSTRUCT\n")
	}
	return ew.err
}

// bcdDate renders a SIGSTRUCT DATE (yyyymmdd as BCD digits) as
// YYYY-MM-DD, or in hex when it is not BCD.
func bcdDate(d uint32) string {
	s := fmt.Sprintf("%08x", d)
	for _, c := range s {
		if c > '9' {
			return fmt.Sprintf("%#08x (not BCD)", d)
		}
	}
	return s[:4] + "-" + s[4:6] + "-" + s[6:]
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
