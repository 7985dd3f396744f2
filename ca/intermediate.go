package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
)

// IntermediateRequest is the input of intermediate/generate/:exported, its
// alias issuers/generate/intermediate/:exported and intermediate/cross-sign
// (spec §3.1, blocks CA and KEYGEN). Recent Vault drops use_pss here (Go
// cannot sign CSRs with PSS), so it is not a field.
type IntermediateRequest struct {
	NameFields
	SubjectFields
	// ValidityFields are accepted and ignored: a CSR has no validity.
	ValidityFields
	KeyFields
	OutputFields
	// AddBasicConstraints adds a critical CA:TRUE Basic Constraints
	// extension to the CSR (for AD CS).
	AddBasicConstraints bool
	// KeyUsage, when not empty, is requested in the CSR (recent Vault).
	KeyUsage []string
	// IssuerName is kept with the key and given to the issuer that a later
	// import (intermediate/set-signed) creates for this key's certificate:
	// pkid's deliberate difference, Vault ignores the field.
	IssuerName *string
}

// GeneratedCSR is the result of an intermediate CSR generation.
type GeneratedCSR struct {
	CSR *x509.CertificateRequest
	// Key is the new private key, set only in the exported mode.
	Key      crypto.Signer
	KeyID    string
	Warnings []string
}

const warnNoAIAIntermediate = "This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls or the newly generated issuer with this information. Since this certificate is an intermediate, it might be useful to regenerate this certificate after fixing this problem for the root mount."

// GenerateIntermediate makes a CSR for an intermediate CA (spec §3.1): a
// new key (internal, exported) or a stored one (existing; cross-sign is
// this with mode existing), stored at once as a key entry (the default key
// when none is set). No issuer is created until the signed certificate is
// imported.
func (a *Authority) GenerateIntermediate(ctx context.Context, mode string, req *IntermediateRequest) (*GeneratedCSR, error) {
	p, err := a.checkGeneration(mode, req.Format, req.KeyFields, nil, req.IssuerName)
	if err != nil {
		return nil, err
	}
	tmpl, err := csrTemplate(req)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	if p.mode == ModeExisting {
		key, p.sigBits, err = a.existingKey(req.KeyRef, p.sigBits)
	} else {
		key, err = a.newKey(p.keyType, p.keyBits)
	}
	if err != nil {
		return nil, err
	}
	tmpl.SignatureAlgorithm = SignatureAlgorithm(key.Public(), p.sigBits, false)
	der, err := x509.CreateCertificateRequest(a.cfg.Rand, tmpl, a.signingKey(key))
	if err != nil {
		return nil, fmt.Errorf("ca: create CSR: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse created CSR: %w", err)
	}
	res := &GeneratedCSR{CSR: csr}
	if p.mode == ModeExported {
		res.Key = key
	}
	err = a.cfg.Space.Update(func(tx storage.Tx) error {
		if taken, err := issuerKind.nameTaken(tx, p.issuerName, ""); err != nil || taken {
			return orErr(err, errIssuerNameInUse)
		}
		rec, existed, err := a.storeKey(tx, key, p.keyName, p.issuerName)
		if err != nil {
			return err
		}
		if existed && p.issuerName != "" {
			rec.PendingIssuerName = p.issuerName
			if err := records.PutKey(tx, rec); err != nil {
				return err
			}
		}
		res.KeyID = rec.ID
		urls, err := records.GetURLs(tx)
		if err == nil && urls.Empty() {
			res.Warnings = append(res.Warnings, warnNoAIAIntermediate)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

// csrTemplate builds the CSR of an intermediate request: subject and SANs
// from the fields, optional CA basic constraints and key usage requests.
func csrTemplate(req *IntermediateRequest) (*x509.CertificateRequest, error) {
	n, err := parseNames(req.CommonName, req.NameFields)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{
		Subject:  req.SubjectFields.subject(req.CommonName),
		DNSNames: n.dns, EmailAddresses: n.emails, IPAddresses: n.ips, URIs: n.uris,
	}
	if err := setCSROtherSANs(tmpl, n.others); err != nil {
		return nil, err
	}
	if req.AddBasicConstraints {
		val, err := asn1.Marshal(struct{ IsCA bool }{true})
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidBasicConstraints, Critical: true, Value: val})
	}
	if ku := roles.KeyUsages(req.KeyUsage); ku != 0 {
		ext, err := keyUsageExtension(ku)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	return tmpl, nil
}

// keyUsageExtension encodes a Key Usage extension (RFC 5280 §4.2.1.3) the
// way crypto/x509 does for certificates: bit i is usage 1<<i, trailing zero
// bits trimmed.
func keyUsageExtension(ku x509.KeyUsage) (pkix.Extension, error) {
	var a [2]byte
	a[0] = reverseBits(byte(ku))
	a[1] = reverseBits(byte(ku >> 8))
	l := 1
	if a[1] != 0 {
		l = 2
	}
	bits := a[:l]
	unused := 0
	for last := bits[l-1]; unused < 8 && last&(1<<unused) == 0; unused++ {
	}
	val, err := asn1.Marshal(asn1.BitString{Bytes: bits, BitLength: l*8 - unused})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidKeyUsage, Critical: true, Value: val}, nil
}

func reverseBits(b byte) byte {
	var r byte
	for i := 0; i < 8; i++ {
		r = r<<1 | b&1
		b >>= 1
	}
	return r
}

// errMissingIssuerRef is Vault's answer to an empty issuer reference.
var errMissingIssuerRef = errs.New(errs.Invalid, "missing issuer reference")
