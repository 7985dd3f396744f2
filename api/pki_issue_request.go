package api

import (
	"time"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/roles"
)

// The bodies of issue, sign and sign-verbatim as Vault's schemas name and
// type them (spec §3.0 block LEAF, §3.1, §3.2). The names live here, at the
// edge, so roles and ca keep plain Go types. Field order is the decode
// order, and so decides which error a body with several bad fields gets:
// keep it as it is.

// leafWire is the LEAF block the three share.
type leafWire struct {
	CommonName string `json:"common_name"`
	// AltNames is one comma-separated string, not a list type (Vault's).
	AltNames             string        `json:"alt_names"`
	IPSANs               []string      `json:"ip_sans"`
	URISANs              []string      `json:"uri_sans"`
	OtherSANs            []string      `json:"other_sans"`
	SerialNumber         string        `json:"serial_number"`
	TTL                  time.Duration `json:"ttl"`
	NotAfter             string        `json:"not_after"`
	Format               string        `json:"format"`
	PrivateKeyFormat     string        `json:"private_key_format"`
	ExcludeCNFromSANs    bool          `json:"exclude_cn_from_sans"`
	RemoveRootsFromChain bool          `json:"remove_roots_from_chain"`
	UserIDs              []string      `json:"user_ids"`
	IssuerRef            string        `json:"issuer_ref"`
}

func (w leafWire) leaf() roles.LeafRequest {
	return roles.LeafRequest{
		CommonName: w.CommonName, AltNames: w.AltNames,
		IPSANs: w.IPSANs, URISANs: w.URISANs, OtherSANs: w.OtherSANs,
		SerialNumber: w.SerialNumber, TTL: w.TTL, NotAfter: w.NotAfter,
		Format: w.Format, PrivateKeyFormat: w.PrivateKeyFormat,
		ExcludeCNFromSANs: w.ExcludeCNFromSANs, RemoveRootsFromChain: w.RemoveRootsFromChain,
		UserIDs: w.UserIDs, IssuerRef: w.IssuerRef,
	}
}

// leafWireOf is the inverse, so the schema defaults stay those of
// roles.DefaultLeafRequest.
func leafWireOf(r roles.LeafRequest) leafWire {
	return leafWire{
		CommonName: r.CommonName, AltNames: r.AltNames,
		IPSANs: r.IPSANs, URISANs: r.URISANs, OtherSANs: r.OtherSANs,
		SerialNumber: r.SerialNumber, TTL: r.TTL, NotAfter: r.NotAfter,
		Format: r.Format, PrivateKeyFormat: r.PrivateKeyFormat,
		ExcludeCNFromSANs: r.ExcludeCNFromSANs, RemoveRootsFromChain: r.RemoveRootsFromChain,
		UserIDs: r.UserIDs, IssuerRef: r.IssuerRef,
	}
}

// issueWire is the body of issue/:role and issuer/:ref/issue/:role.
type issueWire struct {
	leafWire
	// KeyType and KeyBits stay nil when not sent: only a key_type=any role
	// reads them.
	KeyType *string `json:"key_type"`
	KeyBits *int    `json:"key_bits"`
}

func defaultIssueWire() issueWire {
	d := ca.DefaultIssueRequest()
	return issueWire{leafWire: leafWireOf(d.LeafRequest), KeyType: d.KeyType, KeyBits: d.KeyBits}
}

func (w issueWire) request() ca.IssueRequest {
	return ca.IssueRequest{LeafRequest: w.leaf(), KeyType: w.KeyType, KeyBits: w.KeyBits}
}

// signWire is the body of sign/:role and issuer/:ref/sign/:role.
type signWire struct {
	leafWire
	CSR string `json:"csr"`
}

func defaultSignWire() signWire {
	d := ca.DefaultSignRequest()
	return signWire{leafWire: leafWireOf(d.LeafRequest), CSR: d.CSR}
}

func (w signWire) request() ca.SignRequest {
	return ca.SignRequest{LeafRequest: w.leaf(), CSR: w.CSR}
}

// verbatimParamsWire are sign-verbatim's own parameters.
type verbatimParamsWire struct {
	KeyUsage        []string `json:"key_usage"`
	ExtKeyUsage     []string `json:"ext_key_usage"`
	ExtKeyUsageOIDs []string `json:"ext_key_usage_oids"`
	SignatureBits   int      `json:"signature_bits"`
	UsePSS          bool     `json:"use_pss"`
	// BasicConstraintsValidForNonCA stays nil when not sent, so a named
	// role's value applies.
	BasicConstraintsValidForNonCA *bool `json:"basic_constraints_valid_for_non_ca"`
}

func (w verbatimParamsWire) params() roles.VerbatimParams {
	return roles.VerbatimParams{
		KeyUsage: w.KeyUsage, ExtKeyUsage: w.ExtKeyUsage, ExtKeyUsageOIDs: w.ExtKeyUsageOIDs,
		SignatureBits: w.SignatureBits, UsePSS: w.UsePSS,
		BasicConstraintsValidForNonCA: w.BasicConstraintsValidForNonCA,
	}
}

func verbatimParamsWireOf(p roles.VerbatimParams) verbatimParamsWire {
	return verbatimParamsWire{
		KeyUsage: p.KeyUsage, ExtKeyUsage: p.ExtKeyUsage, ExtKeyUsageOIDs: p.ExtKeyUsageOIDs,
		SignatureBits: p.SignatureBits, UsePSS: p.UsePSS,
		BasicConstraintsValidForNonCA: p.BasicConstraintsValidForNonCA,
	}
}

// verbatimWire is the body of sign-verbatim[/:role] and
// issuer/:ref/sign-verbatim[/:role].
type verbatimWire struct {
	leafWire
	verbatimParamsWire
	CSR string `json:"csr"`
}

func defaultVerbatimWire() verbatimWire {
	d := ca.DefaultVerbatimRequest()
	return verbatimWire{
		leafWire:           leafWireOf(d.LeafRequest),
		verbatimParamsWire: verbatimParamsWireOf(d.VerbatimParams),
		CSR:                d.CSR,
	}
}

func (w verbatimWire) request() ca.VerbatimRequest {
	return ca.VerbatimRequest{LeafRequest: w.leaf(), VerbatimParams: w.params(), CSR: w.CSR}
}
