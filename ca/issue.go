package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"github.com/pkid-dev/pkid/records"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// IssueRequest is the body of issue/:role and issuer/:ref/issue/:role: the
// LEAF block plus the key fields a key_type=any role needs (spec §3.1).
type IssueRequest struct {
	roles.LeafRequest
	// KeyType and KeyBits are nil when not sent; only a key_type=any role
	// reads them.
	KeyType *string
	KeyBits *int
}

// SignRequest is the body of sign/:role and issuer/:ref/sign/:role.
type SignRequest struct {
	roles.LeafRequest
	CSR string
}

// VerbatimRequest is the body of sign-verbatim[/:role] and
// issuer/:ref/sign-verbatim[/:role] (spec §3.2).
type VerbatimRequest struct {
	roles.LeafRequest
	roles.VerbatimParams
	CSR string
}

// Default requests: every field at Vault's schema default.
func DefaultIssueRequest() IssueRequest { return IssueRequest{LeafRequest: roles.DefaultLeafRequest()} }
func DefaultSignRequest() SignRequest   { return SignRequest{LeafRequest: roles.DefaultLeafRequest()} }
func DefaultVerbatimRequest() VerbatimRequest {
	return VerbatimRequest{LeafRequest: roles.DefaultLeafRequest(), VerbatimParams: roles.DefaultVerbatimParams()}
}

// LeafOptions is how an issue, sign or sign-verbatim request reached the CA.
type LeafOptions struct {
	// IssuerRef is the issuer of the issuer/:ref/... forms, which wins over
	// the role's issuer_ref; "" on the plain forms.
	IssuerRef string
	// TTLs are the serving mount's effective lease TTLs.
	TTLs MountTTLs
	// Identity is the caller, for identity templates in the role.
	Identity roles.Identity
}

// Leaf is an issued or signed certificate and what its answer needs.
type Leaf struct {
	Cert   *x509.Certificate
	Serial string // colon form, as Vault renders it
	// Key is the generated private key (issue only).
	Key    crypto.Signer
	Issuer *SigningIssuer
	Role   *roles.Role
	// Stored reports that the certificate is in the certificate store
	// (durably, before the call returned); false for no_store roles.
	Stored   bool
	Warnings []string
	// LeaseTTL is the time left to NotAfter when the role asks for a lease
	// (generate_lease), else zero.
	LeaseTTL time.Duration

	format           string
	privateKeyFormat string
	removeRoots      bool
}

// Issue signs a certificate with a newly generated key under a role
// (issue/:role): Vault's checks in Vault's order, the key made and the
// certificate signed outside any transaction, and the record durable (group
// commit) before it returns, unless the role says no_store.
func (a *Authority) Issue(ctx context.Context, roleName string, req *IssueRequest, opts LeafOptions) (*Leaf, error) {
	var role *roles.Role
	var key roles.KeySpec
	var keyWarnings []string
	var si *SigningIssuer
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		if role, err = a.loadRole(tx, roleName); err != nil {
			return err
		}
		if key, keyWarnings, err = role.IssueKey(req.KeyType, req.KeyBits); err != nil {
			return err
		}
		if err := checkLeafFormat(req.Format); err != nil {
			return err
		}
		si, err = a.SigningIssuerTx(tx, leafIssuerRef(opts.IssuerRef, role.IssuerRef))
		return err
	})
	if err != nil {
		return nil, err
	}
	plan, err := role.PlanIssue(&req.LeafRequest, key, a.leafEnv(si, opts))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	priv, err := a.leafKey(plan.Key)
	if err != nil {
		return nil, err
	}
	cert, err := a.signLeaf(plan, priv.Public(), si, issuePath)
	if err != nil {
		return nil, err
	}
	leaf := a.newLeaf(cert, priv, si, role, &req.LeafRequest, append(plan.Warnings, keyWarnings...))
	return leaf, a.storeLeaf(ctx, leaf)
}

// Sign signs a CSR under a role (sign/:role): the CSR's key is checked
// against the role first, then its names; only the CN and the SANs come
// from the CSR.
func (a *Authority) Sign(ctx context.Context, roleName string, req *SignRequest, opts LeafOptions) (*Leaf, error) {
	var role *roles.Role
	var si *SigningIssuer
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		if role, err = a.loadRole(tx, roleName); err != nil {
			return err
		}
		if err := checkLeafFormat(req.Format); err != nil {
			return err
		}
		si, err = a.SigningIssuerTx(tx, leafIssuerRef(opts.IssuerRef, role.IssuerRef))
		return err
	})
	if err != nil {
		return nil, err
	}
	return a.signCSR(ctx, role, si, &req.LeafRequest, req.CSR, opts)
}

// SignVerbatim signs a CSR as it is (sign-verbatim): its subject, SANs and
// extensions are copied, under a permissive role that only takes its
// lifetimes, storage and issuer from the named role (roleName "" for none).
// Without a role and an issuer/:ref/... URL the body's issuer_ref decides.
func (a *Authority) SignVerbatim(ctx context.Context, roleName string, req *VerbatimRequest, opts LeafOptions) (*Leaf, error) {
	var role *roles.Role
	var si *SigningIssuer
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var base *roles.Role
		if roleName != "" {
			var err error
			if base, err = a.loadRole(tx, roleName); err != nil {
				return err
			}
		}
		role = roles.VerbatimRole(&req.VerbatimParams, base)
		if err := checkLeafFormat(req.Format); err != nil {
			return err
		}
		ref := opts.IssuerRef
		switch {
		case ref != "":
		case base != nil:
			ref = role.IssuerRef
		default:
			ref = req.IssuerRef
		}
		var err error
		si, err = a.SigningIssuerTx(tx, leafIssuerRef(ref, DefaultRef))
		return err
	})
	if err != nil {
		return nil, err
	}
	return a.signCSR(ctx, role, si, &req.LeafRequest, req.CSR, opts)
}

func (a *Authority) signCSR(ctx context.Context, role *roles.Role, si *SigningIssuer, req *roles.LeafRequest, csrPEM string, opts LeafOptions) (*Leaf, error) {
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	plan, err := role.PlanSign(req, csr, a.leafEnv(si, opts))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cert, err := a.signLeaf(plan, csr.PublicKey, si, csrPath)
	if err != nil {
		return nil, err
	}
	leaf := a.newLeaf(cert, nil, si, role, req, plan.Warnings)
	return leaf, a.storeLeaf(ctx, leaf)
}

// leafIssuerRef picks the issuer: the URL's on issuer/:ref/... forms, else
// the role's (or request's) reference, "default" when empty.
func leafIssuerRef(url, fallback string) string {
	if url != "" {
		return url
	}
	if fallback == "" {
		return DefaultRef
	}
	return fallback
}

// checkLeafFormat refuses formats Vault refuses on these paths (any value
// but pem, der and pem_bundle, the empty string included).
func checkLeafFormat(format string) error {
	switch format {
	case FormatPEM, FormatDER, FormatPEMBundle:
		return nil
	}
	return errs.Invalidf(`the "format" path parameter must be "pem", "der", or "pem_bundle"`)
}

func (a *Authority) leafEnv(si *SigningIssuer, opts LeafOptions) roles.Env {
	ttls := opts.TTLs.withDefaults()
	return roles.Env{
		Now:             a.cfg.Clock.Now(),
		MountDefaultTTL: ttls.Default, MountMaxTTL: ttls.Max,
		IssuerNotAfter:       si.Cert.NotAfter,
		LeafNotAfterBehavior: si.LeafNotAfterBehavior,
		Identity:             opts.Identity,
	}
}

func (a *Authority) newLeaf(cert *x509.Certificate, key crypto.Signer, si *SigningIssuer, role *roles.Role, req *roles.LeafRequest, warnings []string) *Leaf {
	l := &Leaf{
		Cert: cert, Serial: records.FormatSerial(cert.SerialNumber), Key: key,
		Issuer: si, Role: role, Warnings: warnings,
		format: req.Format, privateKeyFormat: req.PrivateKeyFormat, removeRoots: req.RemoveRootsFromChain,
	}
	if role.GenerateLease && !role.NoStore {
		l.LeaseTTL = max(cert.NotAfter.Sub(a.cfg.Clock.Now()), 0)
	}
	return l
}

// storeLeaf records the certificate under its serial through the group
// commit, so concurrent issues share one fsync; it returns once the record
// is durable. no_store roles skip it.
func (a *Authority) storeLeaf(ctx context.Context, l *Leaf) error {
	if l.Role.NoStore {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := a.cfg.Space.Commit(func(tx storage.Tx) error { return records.PutCert(tx, l.Cert) }); err != nil {
		return err
	}
	l.Stored = true
	return nil
}

// RoleIssuerWarnings is the role-write check of issuer_ref: Vault resolves
// the reference only at use time, so one that resolves to nothing is a
// warning, not an error.
func (a *Authority) RoleIssuerWarnings(ref string) ([]string, error) {
	var warnings []string
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		_, err := issuerKind.resolve(tx, ref)
		switch {
		case err == nil:
		case !isRefError(err):
			return err
		case ref == DefaultRef:
			warnings = append(warnings, "Issuing Certificate was set to default, but no default issuing certificate (configurable at /config/issuers) is currently set")
		default:
			warnings = append(warnings, "Issuing Certificate was set to "+ref+" but no issuing certificate currently has that name")
		}
		return nil
	})
	return warnings, err
}
