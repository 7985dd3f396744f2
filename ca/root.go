package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"github.com/pkid-dev/pkid/records"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// RootRequest is the input of root/generate/:exported and its aliases
// issuers/generate/root/:exported and root/rotate/:exported (spec §3.1,
// blocks CA, KEYGEN, CAISSUE, KU).
type RootRequest struct {
	NameFields
	SubjectFields
	ValidityFields
	KeyFields
	CAExtensionFields
	OutputFields
	// UsePSS signs with RSA-PSS (RSA keys only).
	UsePSS bool
	// IssuerName names the new issuer ("" or nil: unnamed, or "next" on
	// root/rotate when that name is free).
	IssuerName *string
}

// GeneratedRoot is the result of a root generation.
type GeneratedRoot struct {
	Cert *x509.Certificate
	// Key is the new private key, set only in the exported mode: the one
	// time it leaves the server.
	Key                  crypto.Signer
	IssuerID, IssuerName string
	KeyID, KeyName       string
	Warnings             []string
}

// Warning texts shared by the generation paths (Vault's wording).
const (
	warnNoSubject = "This issuer certificate was generated without a Subject; this makes it likely that issuing leaf certs with this certificate will cause TLS validation libraries to reject this certificate."
	warnNoAIA     = "This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls or the newly generated issuer with this information."
	warnRootAIA   = "When generating root CA, found global AIA configuration with issuer_id template unsuitable for root generation. This AIA configuration has been ignored. To include AIA on this root CA, set the global AIA configuration to not include issuer_id and instead to refer to a static issuer name."
)

// GenerateRoot makes a self-signed CA (spec §3.1 generate root): a new key
// (internal, exported) or a stored one (existing, key_ref), a certificate
// valid for ttl or until not_after (default: the mount's default TTL,
// capped at its max TTL with a warning), stored as a new issuer (the
// default when none is set or default_follows_latest_issuer) and in the
// certificate store. It forces a CRL rebuild. rotate is root/rotate: an
// unnamed issuer is named "next" when that name is free.
func (a *Authority) GenerateRoot(ctx context.Context, mode string, rotate bool, req *RootRequest, ttls MountTTLs) (*GeneratedRoot, error) {
	p, err := a.checkGeneration(mode, req.Format, req.KeyFields, req.MaxPathLength, req.IssuerName)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	if p.mode == ModeExisting {
		if key, p.sigBits, err = a.existingKey(req.KeyRef, p.sigBits); err != nil {
			return nil, err
		}
	}
	tmpl, warnings, err := a.rootTemplate(req)
	if err != nil {
		return nil, err
	}
	notBefore, notAfter, ttlWarnings, err := caValidity(a.cfg.Clock.Now(), req.ValidityFields, ttls)
	if err != nil {
		return nil, err
	}
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	// Vault computes the TTL (and its warning) before the AIA template check.
	warnings = append(ttlWarnings, warnings...)
	if key == nil {
		if key, err = a.newKey(p.keyType, p.keyBits); err != nil {
			return nil, err
		}
	}
	tmpl.SignatureAlgorithm = SignatureAlgorithm(key.Public(), p.sigBits, req.UsePSS)
	if tmpl.SubjectKeyId, err = SubjectKeyID(key.Public()); err != nil {
		return nil, err
	}
	cert, err := signCert(a.cfg.Rand, tmpl, tmpl, key.Public(), a.signingKey(key))
	if err != nil {
		return nil, err
	}
	res, err := a.storeRoot(cert, key, p.issuerName, p.keyName, rotate)
	if err != nil {
		return nil, err
	}
	if p.mode == ModeExported {
		res.Key = key
	}
	res.Warnings = nil
	if p := req.keyUsageProblems(); p != "" {
		res.Warnings = append(res.Warnings, "Invalid key usage will be ignored: "+p)
	}
	res.Warnings = append(res.Warnings, rootWarnings(cert)...)
	crlWarnings, err := a.rebuildCRL(ctx, true)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, crlWarnings...)
	if cert.MaxPathLen == 0 {
		res.Warnings = append(res.Warnings, "Max path length of the generated certificate is zero. This certificate cannot be used to issue intermediate CA certificates.")
	}
	res.Warnings = append(res.Warnings, warnings...)
	return res, nil
}

func rootWarnings(cert *x509.Certificate) []string {
	var w []string
	if len(cert.RawSubject) <= 2 {
		w = append(w, warnNoSubject)
	}
	if len(cert.OCSPServer) == 0 && len(cert.IssuingCertificateURL) == 0 && len(cert.CRLDistributionPoints) == 0 {
		w = append(w, warnNoAIA)
	}
	return w
}

// rootTemplate builds everything of a root certificate but validity, key
// identifiers and signature algorithm.
func (a *Authority) rootTemplate(req *RootRequest) (*x509.Certificate, []string, error) {
	n, err := parseNames(req.CommonName, req.NameFields)
	if err != nil {
		return nil, nil, err
	}
	serial, err := NewSerial(a.cfg.Rand)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      req.SubjectFields.subject(req.CommonName),
		DNSNames:     n.dns, EmailAddresses: n.emails, IPAddresses: n.ips, URIs: n.uris,
	}
	maxPath := -1
	if req.MaxPathLength != nil {
		maxPath = *req.MaxPathLength
	}
	if err := req.CAExtensionFields.apply(tmpl, maxPath); err != nil {
		return nil, nil, err
	}
	if err := SetOtherSANs(tmpl, n.others); err != nil {
		return nil, nil, err
	}
	urls, warnings, err := a.rootURLs()
	if err != nil {
		return nil, nil, err
	}
	if err := urls.Apply(tmpl); err != nil {
		return nil, nil, err
	}
	return tmpl, warnings, nil
}

// rootURLs are config/urls as a root can carry them: with no issuer ID
// yet, an {{issuer_id}} template makes Vault leave the AIA out, with a
// warning; other template problems are errors.
func (a *Authority) rootURLs() (URLs, []string, error) {
	var cfg records.URLs
	var cluster records.Cluster
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		var err error
		if cfg, err = records.GetURLs(tx); err != nil {
			return err
		}
		cluster, err = records.GetCluster(tx)
		return err
	})
	if err != nil {
		return URLs{}, nil, err
	}
	urls, err := resolveURLs(&cfg, "", cluster)
	if err == nil {
		return urls, nil, nil
	}
	if !errors.Is(err, errNoIssuerIDForTemplate) {
		return URLs{}, nil, errs.Wrap(errs.InvalidVault500, err, "unable to parse AIA URL information: "+err.Error())
	}
	if _, err2 := resolveURLs(&cfg, "empty-issuer-id", cluster); err2 != nil {
		return URLs{}, nil, errs.Wrap(errs.InvalidVault500, err2, "unable to parse AIA URL information: "+err2.Error()+
			"\nUsing templated AIA URL's {{issuer_id}} field when generating root certificates is not supported.")
	}
	return URLs{}, []string{warnRootAIA}, nil
}

// generation is a root or intermediate generation request as checked before
// any work is done.
type generation struct {
	mode                string // internal, exported or existing
	keyType             string // of a new key
	keyBits, sigBits    int
	issuerName, keyName string // trimmed; "" for none
}

// checkGeneration checks what root and intermediate generation share, in
// Vault's order: the :exported mode, the output format, the key parameters,
// max_path_length (nil for an intermediate, which has none) and the new
// names.
func (a *Authority) checkGeneration(mode, format string, k KeyFields, maxPath *int, issuerName *string) (generation, error) {
	var g generation
	var err error
	if g.mode, err = ParseMode(mode); err != nil {
		return g, err
	}
	if _, err := ParseFormat(format); err != nil {
		return g, err
	}
	if g.keyType, g.keyBits, g.sigBits, err = k.keyParams(g.mode); err != nil {
		return g, err
	}
	if err := checkMaxPathLength(maxPath); err != nil {
		return g, err
	}
	g.issuerName, g.keyName, err = a.checkNewNames(issuerName, k.KeyName)
	return g, err
}

// checkNewNames validates the issuer_name and key_name of a generation
// request and refuses names already taken (they are checked again when
// stored). An empty name means none.
func (a *Authority) checkNewNames(issuerName *string, keyName string) (string, string, error) {
	var in string
	if issuerName != nil {
		in = strings.TrimSpace(*issuerName)
	}
	kn := strings.TrimSpace(keyName)
	if in != "" {
		if err := issuerKind.validateName(in); err != nil {
			return "", "", err
		}
	}
	if kn != "" {
		if err := keyKind.validateName(kn); err != nil {
			return "", "", err
		}
	}
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		if taken, err := issuerKind.nameTaken(tx, in, ""); err != nil || taken {
			return orErr(err, errIssuerNameInUse)
		}
		if taken, err := keyKind.nameTaken(tx, kn, ""); err != nil || taken {
			return orErr(err, errKeyNameInUse)
		}
		return nil
	})
	return in, kn, err
}

func orErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// existingKey loads the key of the existing mode (400 when unknown, as
// Vault answers on generation paths) and resolves signature_bits for it.
func (a *Authority) existingKey(ref string, sigBits int) (crypto.Signer, int, error) {
	if strings.TrimSpace(ref) == "" {
		ref = DefaultRef
	}
	var key crypto.Signer
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		rec, err := keyKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.Invalid, "failed to lookup public key from existing key: ")
		}
		key, err = a.signer(rec.PrivateKey)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	sigBits, err = ValidateSignatureBits(KeyTypeOf(key.Public()), sigBits)
	return key, sigBits, err
}

// storeRoot records a new root: its key (or the stored one), its issuer,
// the default settings and the certificate store entry, in one transaction.
func (a *Authority) storeRoot(cert *x509.Certificate, key crypto.Signer, issuerName, keyName string, rotate bool) (*GeneratedRoot, error) {
	res := &GeneratedRoot{Cert: cert}
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		if taken, err := keyKind.nameTaken(tx, keyName, ""); err != nil || taken {
			return orErr(err, errKeyNameInUse)
		}
		krec, _, err := a.storeKey(tx, key, keyName, "")
		if err != nil {
			return err
		}
		name := issuerName
		if name == "" && rotate {
			if taken, err := issuerKind.nameTaken(tx, "next", ""); err != nil {
				return err
			} else if !taken {
				name = "next"
			}
		}
		irec, _, _, err := a.storeIssuer(tx, cert, name)
		if err != nil {
			return err
		}
		// A root generated here records its own algorithm for CRLs (Vault
		// does so for fresh roots only).
		irec.RevocationSigAlg = signatureAlgorithmName(cert.SignatureAlgorithm)
		if err := records.PutIssuer(tx, irec); err != nil {
			return err
		}
		if err := a.rebuildChains(tx); err != nil {
			return err
		}
		cfg, err := records.GetIssuersConfig(tx)
		if err != nil {
			return err
		}
		if cfg.FollowsLatest {
			if err := setDefaultIssuer(tx, irec.ID); err != nil {
				return err
			}
		}
		res.IssuerID, res.IssuerName, res.KeyID, res.KeyName = irec.ID, irec.Name, krec.ID, krec.Name
		return records.PutCert(tx, cert)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
