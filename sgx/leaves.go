package sgx

// PageSize is the size of an EPC page and of every page-sized structure.
const PageSize = 4096

// EncluLeaf is an ENCLU (0F 01 D7) leaf function number, taken from EAX.
type EncluLeaf uint32

// ENCLU leaves (SDM Vol. 3D, "Register Usage of Unprivileged Enclave
// Instruction Leaf Functions"; SGX.md §2).
const (
	LeafEREPORT        EncluLeaf = 0
	LeafEGETKEY        EncluLeaf = 1
	LeafEENTER         EncluLeaf = 2
	LeafERESUME        EncluLeaf = 3
	LeafEEXIT          EncluLeaf = 4
	LeafEACCEPT        EncluLeaf = 5
	LeafEMODPE         EncluLeaf = 6
	LeafEACCEPTCOPY    EncluLeaf = 7
	LeafEVERIFYREPORT2 EncluLeaf = 8
	LeafEDECCSSA       EncluLeaf = 9
)

var encluNames = []intName{
	{0, "EREPORT"}, {1, "EGETKEY"}, {2, "EENTER"}, {3, "ERESUME"}, {4, "EEXIT"},
	{5, "EACCEPT"}, {6, "EMODPE"}, {7, "EACCEPTCOPY"}, {8, "EVERIFYREPORT2"},
	{9, "EDECCSSA"},
}

// String returns the leaf's mnemonic, "EENTER", or "EncluLeaf(N)".
func (l EncluLeaf) String() string { return stringName(uint64(l), encluNames, "EncluLeaf") }

// EnclsLeaf is an ENCLS (0F 01 CF, ring 0) leaf function number.
type EnclsLeaf uint32

// ENCLS leaves (SDM Vol. 3D, "Register Usage of Privileged Enclave
// Instruction Leaf Functions"; SGX.md §2).
const (
	LeafECREATE EnclsLeaf = 0
	LeafEADD    EnclsLeaf = 1
	LeafEINIT   EnclsLeaf = 2
	LeafEREMOVE EnclsLeaf = 3
	LeafEDBGRD  EnclsLeaf = 4
	LeafEDBGWR  EnclsLeaf = 5
	LeafEEXTEND EnclsLeaf = 6
	LeafELDB    EnclsLeaf = 7
	LeafELDU    EnclsLeaf = 8
	LeafEBLOCK  EnclsLeaf = 9
	LeafEPA     EnclsLeaf = 10
	LeafEWB     EnclsLeaf = 11
	LeafETRACK  EnclsLeaf = 12
	LeafEAUG    EnclsLeaf = 13
	LeafEMODPR  EnclsLeaf = 14
	LeafEMODT   EnclsLeaf = 15
)

var enclsNames = []intName{
	{0, "ECREATE"}, {1, "EADD"}, {2, "EINIT"}, {3, "EREMOVE"}, {4, "EDBGRD"},
	{5, "EDBGWR"}, {6, "EEXTEND"}, {7, "ELDB"}, {8, "ELDU"}, {9, "EBLOCK"},
	{10, "EPA"}, {11, "EWB"}, {12, "ETRACK"}, {13, "EAUG"}, {14, "EMODPR"},
	{15, "EMODT"},
}

// String returns the leaf's mnemonic, "EADD", or "EnclsLeaf(N)".
func (l EnclsLeaf) String() string { return stringName(uint64(l), enclsNames, "EnclsLeaf") }
