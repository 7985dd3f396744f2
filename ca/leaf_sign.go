package ca

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkid-dev/pkid/errs"
)

// signLeafCert is x509.CreateCertificate without the check of its own
// signature that CreateCertificate makes after signing.
//
// That check guards against faulty crypto.Signer implementations (HSMs,
// remote signers). pkid's issuer keys are in-process Go keys, and on the
// issue hot path the check costs more than the signature: with a P-256
// issuer about 57 µs of a 180 µs issue. So the TBSCertificate is taken from
// CreateCertificate (which hands the whole message to a crypto.MessageSigner,
// a documented path) and signed here with the issuer's key; the certificate
// is then assembled as RFC 5280 §4.1 defines it and parsed back. Every test
// that issues a leaf verifies it against its issuer.
func signLeafCert(rnd io.Reader, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	if err := setKeyIDs(tmpl, parent, pub); err != nil {
		return nil, err
	}
	capture := &tbsCapture{pub: key.Public()}
	_, err := x509.CreateCertificate(rnd, tmpl, parent, pub, capture)
	if !errors.Is(err, errTBSCaptured) {
		if err == nil {
			err = errors.New("signer was not called")
		}
		// Values the policy let through but X.509 cannot encode (a
		// non-ASCII e-mail SAN, say) are Vault's 500 with this text.
		return nil, errs.Wrap(errs.InvalidVault500, err, "unable to create certificate: "+err.Error())
	}
	sig, err := crypto.SignMessage(key, rnd, capture.tbs, capture.opts)
	if err != nil {
		return nil, fmt.Errorf("ca: unable to create certificate: %w", err)
	}
	der, err := assembleCertificate(capture.tbs, sig)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: unable to parse created certificate: %w", err)
	}
	return cert, nil
}

// errTBSCaptured stops CreateCertificate once it has built the
// TBSCertificate and asked for its signature.
var errTBSCaptured = errors.New("ca: TBSCertificate captured")

// tbsCapture is a crypto.MessageSigner that records the message it is
// asked to sign (the DER TBSCertificate) and the options, then refuses.
// Public reports the issuer's key, so CreateCertificate's check that the
// key matches the parent certificate still applies.
type tbsCapture struct {
	pub  crypto.PublicKey
	tbs  []byte
	opts crypto.SignerOpts
}

func (c *tbsCapture) Public() crypto.PublicKey { return c.pub }

func (c *tbsCapture) SignMessage(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	c.tbs, c.opts = msg, opts
	return nil, errTBSCaptured
}

// Sign is never used: CreateCertificate prefers SignMessage.
func (c *tbsCapture) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("ca: tbsCapture.Sign called")
}

// assembleCertificate builds Certificate ::= SEQUENCE { tbsCertificate,
// signatureAlgorithm, signatureValue BIT STRING } (RFC 5280 §4.1), the
// signatureAlgorithm being the one inside the TBSCertificate, as §4.1.1.2
// requires.
func assembleCertificate(tbs, sig []byte) ([]byte, error) {
	in := cryptobyte.String(tbs)
	var body, alg cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) ||
		!body.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!body.SkipASN1(cbasn1.INTEGER) ||
		!body.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		return nil, errors.New("ca: malformed TBSCertificate")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(alg)
		b.AddASN1BitString(sig)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ca: assemble certificate: %w", err)
	}
	return der, nil
}
