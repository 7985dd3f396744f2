package roles

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

// LeafRequest is the LEAF parameter block (spec §3.0) that issue, sign and
// sign-verbatim share. Start from DefaultLeafRequest. Vault's names for
// its fields are package api's business.
type LeafRequest struct {
	CommonName string
	// AltNames is a comma-separated string (not a list type, as in Vault).
	AltNames             string
	IPSANs               []string
	URISANs              []string
	OtherSANs            []string
	SerialNumber         string
	TTL                  time.Duration
	NotAfter             string
	Format               string
	PrivateKeyFormat     string
	ExcludeCNFromSANs    bool
	RemoveRootsFromChain bool
	UserIDs              []string
	// IssuerRef is only honoured by sign-verbatim without a role.
	IssuerRef string
}

// DefaultLeafRequest is a LEAF block with Vault's schema defaults.
func DefaultLeafRequest() LeafRequest {
	return LeafRequest{Format: "pem", PrivateKeyFormat: "der", IssuerRef: defaultIssuerRef}
}

// Env is what a plan needs besides the role and the request: the time, the
// mount's TTLs, the signing issuer's expiry rule and the caller.
type Env struct {
	Now             time.Time
	MountDefaultTTL time.Duration
	MountMaxTTL     time.Duration
	// IssuerNotAfter and LeafNotAfterBehavior come from the signing issuer.
	IssuerNotAfter       time.Time
	LeafNotAfterBehavior string
	Identity             Identity
}

// LeafPlan is everything a leaf certificate will hold, decided and checked
// against the role; the CA only adds the key, serial, issuer fields and
// signature.
type LeafPlan struct {
	// Subject is the certificate's subject; RawSubject, when set
	// (sign-verbatim), is the CSR's subject copied byte for byte.
	Subject    pkix.Name
	RawSubject []byte

	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	// OtherSANs need the SAN extension built by hand (Go has no otherName).
	OtherSANs []OtherName

	NotBefore time.Time
	NotAfter  time.Time

	// KeyUsage zero means no Key Usage extension.
	KeyUsage           x509.KeyUsage
	ExtKeyUsage        []x509.ExtKeyUsage
	UnknownExtKeyUsage []asn1.ObjectIdentifier
	Policies           Policies
	// BasicConstraintsValidForNonCA adds Basic Constraints CA:FALSE.
	BasicConstraintsValidForNonCA bool
	// ExtraExtensions are CSR extensions copied by sign-verbatim; they win
	// over the fields above for the same OID (Go's rule).
	ExtraExtensions []pkix.Extension

	// Key is the leaf key (to generate for issue; the CSR's for sign) and
	// the signature parameters for an RSA issuer.
	Key KeySpec

	Warnings []string
}

// PlanIssue checks an issue request against the role and plans the leaf.
// key is the role's choice (see IssueKey).
func (r *Role) PlanIssue(req *LeafRequest, key KeySpec, env Env) (*LeafPlan, error) {
	p := &LeafPlan{Key: key}
	if err := r.plan(p, req, nil, env); err != nil {
		return nil, err
	}
	return p, nil
}

// PlanSign checks a sign request and its CSR against the role: the CSR's
// key first (spec Appendix C), then names, TTL and finally the CSR's own
// signature, in Vault's order.
func (r *Role) PlanSign(req *LeafRequest, csr *x509.CertificateRequest, env Env) (*LeafPlan, error) {
	key, err := r.CheckCSRKey(csr.PublicKey)
	if err != nil {
		return nil, err
	}
	p := &LeafPlan{Key: key}
	if r.UseCSRCommonName && req.CommonName != "" {
		p.Warnings = append(p.Warnings, `the common_name field was provided but the role is set with "use_csr_common_name" set to true`)
	}
	if r.UseCSRSANs && req.AltNames != "" {
		p.Warnings = append(p.Warnings, `the alt_names field was provided but the role is set with "use_csr_sans" set to true`)
	}
	if err := r.plan(p, req, csr, env); err != nil {
		return nil, err
	}
	if r.verbatim {
		copyCSRValues(p, csr)
	}
	for _, ext := range csr.Extensions {
		if ext.Id.Equal(oidBasicConstraints) && !r.BasicConstraintsValidForNonCA {
			p.Warnings = append(p.Warnings, "specified CSR contained a Basic Constraints extension that was ignored during issuance")
		}
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, errs.Invalidf("request signature invalid")
	}
	return p, nil
}

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

// copyCSRValues is sign-verbatim: the CSR's raw subject, its SANs and every
// extension but Basic Constraints (and but SAN when other_sans forces the
// SAN extension to be rebuilt) go into the certificate as they are.
func copyCSRValues(p *LeafPlan, csr *x509.CertificateRequest) {
	p.RawSubject = csr.RawSubject
	p.DNSNames, p.EmailAddresses = csr.DNSNames, csr.EmailAddresses
	p.IPAddresses, p.URIs = csr.IPAddresses, csr.URIs
	for _, ext := range csr.Extensions {
		if ext.Id.Equal(oidBasicConstraints) || (len(p.OtherSANs) > 0 && ext.Id.Equal(oidSubjectAltName)) {
			continue
		}
		p.ExtraExtensions = append(p.ExtraExtensions, ext)
	}
}

// plan is Vault's generateCreationBundle: names, subject, SANs, validity and
// usages, each checked in Vault's order with its wording.
func (r *Role) plan(p *LeafPlan, req *LeafRequest, csr *x509.CertificateRequest, env Env) error {
	cn, serial, err := r.subjectNames(req, csr)
	if err != nil {
		return err
	}
	if err := r.planNames(p, req, csr, cn, serial, env.Identity); err != nil {
		return err
	}
	if err := r.planOtherSANs(p, req, csr); err != nil {
		return err
	}
	if err := r.planIPs(p, req, csr); err != nil {
		return err
	}
	if err := r.planURIs(p, req, csr, env.Identity); err != nil {
		return err
	}
	p.Subject = r.Subject.Name(cn, serial)
	// Vault computes the validity before it looks at user IDs, so a request
	// wrong on both counts gets the TTL error.
	validity, err := ComputeValidity(ValidityInput{
		Now: env.Now, TTL: req.TTL, NotAfter: req.NotAfter,
		RoleTTL: r.TTL, RoleMaxTTL: r.MaxTTL, RoleNotAfter: r.NotAfter,
		MountDefaultTTL: env.MountDefaultTTL, MountMaxTTL: env.MountMaxTTL,
		IssuerNotAfter: env.IssuerNotAfter, Behavior: env.LeafNotAfterBehavior,
		NotBeforeDuration: r.NotBeforeDuration,
	})
	if err != nil {
		return err
	}
	p.NotBefore, p.NotAfter = validity.NotBefore, validity.NotAfter
	p.Warnings = append(p.Warnings, validity.Warnings...)
	if err := r.planUserIDs(p, req, csr); err != nil {
		return err
	}
	return r.planUsages(p)
}

// subjectNames picks the CN and the subject serialNumber: from the CSR when
// the role says so (and the CSR has one), else from the request.
func (r *Role) subjectNames(req *LeafRequest, csr *x509.CertificateRequest) (cn, serial string, err error) {
	if csr != nil && r.UseCSRCommonName {
		cn = csr.Subject.CommonName
	}
	if cn == "" {
		cn = req.CommonName
		if cn == "" && r.RequireCN {
			return "", "", errs.Invalidf(`the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false`)
		}
	}
	serial = req.SerialNumber
	if serial == "" && csr != nil && r.SerialNumberSource != "json" {
		serial = csr.Subject.SerialNumber
	}
	return cn, serial, nil
}

// planNames gathers DNS and e-mail SANs (spec §4.4) and checks the CN, the
// subject serialNumber and every name against the role.
func (r *Role) planNames(p *LeafPlan, req *LeafRequest, csr *x509.CertificateRequest, cn, serial string, id Identity) error {
	var dns, emails []string
	fromCSR := csr != nil && r.UseCSRSANs
	if fromCSR {
		dns = append(dns, csr.DNSNames...)
		emails = append(emails, csr.EmailAddresses...)
	}
	if cn != "" && !req.ExcludeCNFromSANs {
		var err error
		if dns, emails, err = addName(dns, emails, cn); err != nil {
			return err
		}
	}
	if !fromCSR {
		// Vault reads alt_names with ParseDedupAndSortStrings: trimmed,
		// without empty or repeated entries, sorted; so the first refused
		// entry it reports is the first in that order.
		for _, alt := range dedupSorted(strings.Split(req.AltNames, ",")) {
			var err error
			if dns, emails, err = addName(dns, emails, alt); err != nil {
				return err
			}
		}
	}
	// The CN is checked even when it is kept out of the SANs.
	if cn != "" && !r.CommonNameAllowed(cn, id) {
		return errs.Invalidf("common name %s not allowed by this role", cn)
	}
	if serial != "" && !r.serialNumberAllowed(serial) {
		return errs.Invalidf("serial_number %s not allowed by this role", serial)
	}
	if bad := r.firstRefused(dns, id); bad != "" {
		return errs.Invalidf("subject alternate name %s not allowed by this role", bad)
	}
	if bad := r.firstRefused(emails, id); bad != "" {
		return errs.Invalidf("email address %s not allowed by this role", bad)
	}
	// Vault sorts both lists (strutil.RemoveDuplicates), so the CN is not
	// necessarily the first DNS SAN; OpenBao keeps request order instead
	// (openbao/openbao#50), and pkid answers as Vault does.
	p.DNSNames = dedupSorted(dns)
	p.EmailAddresses = dedupSorted(emails)
	return nil
}

// addName files a CN or alt_names entry: with an @ it is an e-mail SAN;
// otherwise its IDNA form is a DNS SAN if it is hostname-shaped, and it is
// dropped silently if not. An IDNA failure is a 400 with IDNA's text.
func addName(dns, emails []string, name string) ([]string, []string, error) {
	if strings.Contains(name, "@") {
		return dns, append(emails, name), nil
	}
	ascii, ok, err := SANHostname(name)
	if err != nil {
		return nil, nil, errs.Invalidf("%s", err.Error())
	}
	if ok {
		dns = append(dns, ascii)
	}
	return dns, emails, nil
}

func (r *Role) planOtherSANs(p *LeafPlan, req *LeafRequest, csr *x509.CertificateRequest) error {
	input := append([]string(nil), req.OtherSANs...)
	if r.UseCSRSANs && csr != nil && len(csr.Extensions) > 0 {
		others, err := CSROtherNames(csr.Extensions)
		if err != nil {
			return errs.Invalidf("could not parse requested other SAN: %v", err)
		}
		for _, o := range others {
			input = append(input, o.String())
		}
	}
	if len(input) == 0 {
		return nil
	}
	requested, err := ParseOtherSANs(input)
	if err != nil {
		return errs.Invalidf("could not parse requested other SAN: %v", err)
	}
	for _, o := range requested {
		if _, err := ParseOID(o.OID); err != nil {
			return errs.Invalidf("could not parse requested other SAN: invalid OID %q", o.OID)
		}
	}
	badOID, badValue, err := r.otherSANsRefused(requested)
	switch {
	case err != nil:
		return errs.Invalidf("%s", err.Error())
	case badValue != "":
		return errs.Invalidf("other SAN %s not allowed for OID %s by this role", badValue, badOID)
	case badOID != "":
		return errs.Invalidf("other SAN OID %s not allowed by this role", badOID)
	}
	p.OtherSANs = requested
	return nil
}

func (r *Role) planIPs(p *LeafPlan, req *LeafRequest, csr *x509.CertificateRequest) error {
	if csr != nil && r.UseCSRSANs {
		if len(csr.IPAddresses) > 0 && !r.AllowIPSANs {
			return errs.Invalidf("IP Subject Alternative Names are not allowed in this role, but was provided some via CSR")
		}
		p.IPAddresses = csr.IPAddresses
		return nil
	}
	if len(req.IPSANs) == 0 {
		return nil
	}
	if !r.AllowIPSANs {
		return errs.Invalidf("IP Subject Alternative Names are not allowed in this role, but was provided %s", req.IPSANs)
	}
	for _, s := range req.IPSANs {
		ip := net.ParseIP(s)
		if ip == nil {
			return errs.Invalidf("the value %q is not a valid IP address", s)
		}
		p.IPAddresses = append(p.IPAddresses, ip)
	}
	return nil
}

func (r *Role) planURIs(p *LeafPlan, req *LeafRequest, csr *x509.CertificateRequest, id Identity) error {
	if csr != nil && r.UseCSRSANs {
		if len(csr.URIs) == 0 {
			return nil
		}
		if len(r.AllowedURISANs) == 0 {
			return errs.Invalidf("URI Subject Alternative Names are not allowed in this role, but were provided via CSR")
		}
		for _, u := range csr.URIs {
			if !r.uriAllowed(u.String(), id) {
				return errs.Invalidf("URI Subject Alternative Names were provided via CSR which are not valid for this role")
			}
		}
		p.URIs = csr.URIs
		return nil
	}
	if len(req.URISANs) == 0 {
		return nil
	}
	if len(r.AllowedURISANs) == 0 {
		return errs.Invalidf("URI Subject Alternative Names are not allowed in this role, but were provided via the API")
	}
	for _, s := range req.URISANs {
		if !r.uriAllowed(s, id) {
			return errs.Invalidf("URI Subject Alternative Names were provided via the API which are not valid for this role")
		}
		u, err := url.Parse(s)
		if err != nil {
			return errs.Invalidf("the provided URI Subject Alternative Name %q is not a valid URI", s)
		}
		p.URIs = append(p.URIs, u)
	}
	return nil
}

var oidUserID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// planUserIDs adds UID attributes (RFC 4519) to the subject: the request's,
// else the CSR's; each must be allowed (an empty allow-list allows none).
func (r *Role) planUserIDs(p *LeafPlan, req *LeafRequest, csr *x509.CertificateRequest) error {
	uids := req.UserIDs
	if len(uids) == 0 && csr != nil {
		for _, atv := range csr.Subject.Names {
			if !atv.Type.Equal(oidUserID) {
				continue
			}
			s, ok := atv.Value.(string)
			if !ok {
				return errs.Invalidf("unknown type for user_id attribute in CSR's Subject")
			}
			uids = append(uids, s)
		}
	}
	for _, uid := range uids {
		if !r.userIDAllowed(uid) {
			return errs.Invalidf("user_id %v is not allowed by this role", uid)
		}
		p.Subject.ExtraNames = append(p.Subject.ExtraNames, pkix.AttributeTypeAndValue{Type: oidUserID, Value: uid})
	}
	return nil
}

// planUsages sets the extensions that come from the role alone.
func (r *Role) planUsages(p *LeafPlan) error {
	p.KeyUsage = KeyUsages(r.KeyUsage)
	p.ExtKeyUsage = ExtKeyUsages(r.ExtKeyUsage, r.ServerFlag, r.ClientFlag, r.CodeSigningFlag, r.EmailProtectionFlag)
	p.UnknownExtKeyUsage = ExtKeyUsageOIDs(r.ExtKeyUsageOIDs)
	p.BasicConstraintsValidForNonCA = r.BasicConstraintsValidForNonCA
	pol, err := PolicyInfo(r.PolicyIdentifiers)
	if err != nil {
		return errs.Wrap(errs.InvalidVault500, err, err.Error())
	}
	p.Policies = pol
	return nil
}

// dedupStable drops empty (after trimming) and repeated entries, keeping
// the first occurrence (go-secure-stdlib's RemoveDuplicatesStable).
func dedupStable(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		k := strings.TrimSpace(s)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	return out
}

// dedupSorted trims, drops empty and repeated entries and sorts, as Vault's
// strutil.RemoveDuplicates does for alt_names and for the DNS and e-mail
// SANs.
func dedupSorted(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// String describes a plan for logs and test failures.
func (p *LeafPlan) String() string {
	return fmt.Sprintf("leaf{cn=%q dns=%v email=%v ip=%v notAfter=%s}",
		p.Subject.CommonName, p.DNSNames, p.EmailAddresses, p.IPAddresses, p.NotAfter.Format(time.RFC3339))
}
