package roles

// VerbatimParams are sign-verbatim's own parameters (spec §3.2). Their
// usages act as defaults: usage extensions the CSR carries win.
type VerbatimParams struct {
	KeyUsage        []string
	ExtKeyUsage     []string
	ExtKeyUsageOIDs []string
	SignatureBits   int
	UsePSS          bool
	// BasicConstraintsValidForNonCA is nil when not sent: a named role's
	// value applies then.
	BasicConstraintsValidForNonCA *bool
}

// DefaultVerbatimParams are sign-verbatim's schema defaults.
func DefaultVerbatimParams() VerbatimParams {
	return VerbatimParams{KeyUsage: []string{"DigitalSignature", "KeyAgreement", "KeyEncipherment"}}
}

// VerbatimRole builds the permissive role sign-verbatim signs with (Vault's
// buildSignVerbatimRole): any name, no hostname or CN checks, any key type
// (minimums still apply), every SAN kind allowed. From a named role (base,
// may be nil) only ttl, max_ttl, generate_lease, no_store, issuer_ref,
// not_before_duration and basic_constraints_valid_for_non_ca (unless sent)
// are taken.
func VerbatimRole(params *VerbatimParams, base *Role) *Role {
	r := &Role{Settings: Settings{
		AllowLocalhost: true, AllowAnyName: true, AllowIPSANs: true,
		AllowWildcardCertificates: true, KeyType: "any",
		UseCSRCommonName: true, UseCSRSANs: true,
		AllowedOtherSANs: []string{"*"}, AllowedSerialNumbers: []string{"*"},
		AllowedURISANs: []string{"*"}, AllowedUserIDs: []string{"*"},
		CNValidations:   []string{"disabled"},
		KeyUsage:        params.KeyUsage,
		ExtKeyUsage:     params.ExtKeyUsage,
		ExtKeyUsageOIDs: params.ExtKeyUsageOIDs,
		SignatureBits:   params.SignatureBits,
		UsePSS:          params.UsePSS,
		IssuerRef:       defaultIssuerRef,
	}, verbatim: true}
	if params.BasicConstraintsValidForNonCA != nil {
		r.BasicConstraintsValidForNonCA = *params.BasicConstraintsValidForNonCA
	}
	if base == nil {
		return r
	}
	r.Name = base.Name
	r.TTL, r.MaxTTL = base.TTL, base.MaxTTL
	r.GenerateLease, r.NoStore = base.GenerateLease, base.NoStore
	r.NotBeforeDuration = base.NotBeforeDuration
	if base.IssuerRef != "" {
		r.IssuerRef = base.IssuerRef
	}
	if params.BasicConstraintsValidForNonCA == nil {
		r.BasicConstraintsValidForNonCA = base.BasicConstraintsValidForNonCA
	}
	return r
}
