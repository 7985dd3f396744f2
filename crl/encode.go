package crl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// CRLs are encoded here rather than by x509.CreateRevocationList because a
// mount with 100k revocations must still revoke the next certificate in a
// few milliseconds while auto_rebuild=false (Vault rebuilds the whole CRL on
// every revoke, spec §3.1). x509.CreateRevocationList re-marshals every entry
// through reflection and verifies its own signature, which costs hundreds of
// milliseconds at that size. Here the revoked-certificates SEQUENCE is kept
// as already-encoded DER (one entry appended per revoke), and a build only
// copies it between a freshly encoded header and the extensions, hashes and
// signs. The output is the same RFC 5280 §5.1 v2 CertificateList that Go
// would produce: x509.ParseRevocationList reads it and the tests check its
// signature against the issuer.

// OIDs of the CRL extensions (RFC 5280 §5.2) and signature algorithms.
var (
	oidAuthorityKeyID    = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber         = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidFreshestCRL       = asn1.ObjectIdentifier{2, 5, 29, 46}

	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// crlParams describe one CRL to sign; the entries come separately, encoded.
type crlParams struct {
	issuer     *x509.Certificate
	signer     crypto.Signer
	sigAlg     x509.SignatureAlgorithm // zero: chosen from the key
	number     int64
	thisUpdate time.Time
	nextUpdate time.Time
	// delta marks a delta CRL whose base is the complete CRL numbered
	// deltaBase (RFC 5280 §5.2.4).
	delta     bool
	deltaBase int64
	// freshest lists delta CRL URLs for a complete CRL (RFC 5280 §5.2.6).
	freshest []string
}

// appendEntry appends one revokedCertificates entry (RFC 5280 §5.1.2.6:
// serial and revocation date; Vault sets no reason and no entry extensions)
// given the serial's big-endian magnitude.
func appendEntry(dst, serial []byte, revoked time.Time) []byte {
	for len(serial) > 1 && serial[0] == 0 {
		serial = serial[1:]
	}
	if len(serial) == 0 {
		serial = []byte{0}
	}
	pad := 0
	if serial[0]&0x80 != 0 {
		pad = 1 // keep the INTEGER positive
	}
	intLen := len(serial) + pad
	var tbuf [17]byte
	tm := appendTime(tbuf[:0], revoked)
	inner := headerLen(intLen) + intLen + len(tm)
	dst = appendHeader(dst, 0x30, inner)
	dst = appendHeader(dst, 0x02, intLen)
	if pad == 1 {
		dst = append(dst, 0)
	}
	dst = append(dst, serial...)
	return append(dst, tm...)
}

// appendTime encodes t as RFC 5280 §4.1.2.5 asks: UTCTime through 2049,
// GeneralizedTime from 2050, always in UTC and to the second.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if y := t.Year(); y >= 1950 && y < 2050 {
		dst = append(dst, 0x17, 13)
		return t.AppendFormat(dst, "060102150405Z")
	}
	dst = append(dst, 0x18, 15)
	return t.AppendFormat(dst, "20060102150405Z")
}

// appendHeader appends a DER tag and definite length.
func appendHeader(dst []byte, tag byte, n int) []byte {
	dst = append(dst, tag)
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n < 1<<8:
		return append(dst, 0x81, byte(n))
	case n < 1<<16:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n < 1<<24:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// headerLen is the size of a tag and length for n content bytes.
func headerLen(n int) int {
	switch {
	case n < 0x80:
		return 2
	case n < 1<<8:
		return 3
	case n < 1<<16:
		return 4
	case n < 1<<24:
		return 5
	}
	return 6
}

// signCRL builds and signs the CertificateList for p around entries, the
// concatenated DER of its revokedCertificates.
func signCRL(rand io.Reader, p crlParams, entries []byte) ([]byte, error) {
	alg, err := resolveSigAlg(p.signer.Public(), p.sigAlg)
	if err != nil {
		return nil, err
	}
	algID, opts, err := algorithmIdentifier(alg)
	if err != nil {
		return nil, err
	}
	head, exts, err := tbsParts(p, algID)
	if err != nil {
		return nil, err
	}
	content := len(head) + headerLen(len(exts)) + len(exts)
	if len(entries) > 0 {
		content += headerLen(len(entries)) + len(entries)
	}
	// Six bytes of headroom take the outer SEQUENCE header, whose length is
	// known only once the signature is.
	const room = 6
	buf := make([]byte, room, room+headerLen(content)+content+len(algID)+1100)
	buf = appendHeader(buf, 0x30, content)
	buf = append(buf, head...)
	if len(entries) > 0 {
		buf = appendHeader(buf, 0x30, len(entries))
		buf = append(buf, entries...)
	}
	buf = appendHeader(buf, 0xa0, len(exts))
	buf = append(buf, exts...)

	sig, err := crypto.SignMessage(p.signer, rand, buf[room:], opts)
	if err != nil {
		return nil, fmt.Errorf("crl: sign: %w", err)
	}
	buf = append(buf, algID...)
	buf = appendHeader(buf, 0x03, len(sig)+1)
	buf = append(buf, 0) // no unused bits
	buf = append(buf, sig...)
	outer := appendHeader(nil, 0x30, len(buf)-room)
	start := room - len(outer)
	copy(buf[start:], outer)
	return buf[start:], nil
}

// tbsParts encodes the TBSCertList fields before revokedCertificates
// (version v2, signature, issuer, thisUpdate, nextUpdate) and the
// crlExtensions SEQUENCE that follows them.
func tbsParts(p crlParams, algID []byte) (head, exts []byte, err error) {
	head = append(head, 0x02, 0x01, 0x01) // version v2
	head = append(head, algID...)
	head = append(head, p.issuer.RawSubject...)
	head = appendTime(head, p.thisUpdate)
	head = appendTime(head, p.nextUpdate)

	list, err := extensions(p)
	if err != nil {
		return nil, nil, err
	}
	exts, err = asn1.Marshal(list)
	if err != nil {
		return nil, nil, fmt.Errorf("crl: encode extensions: %w", err)
	}
	return head, exts, nil
}

// extensions are the CRL extensions Vault puts on its CRLs (spec §6.3):
// Authority Key Identifier and CRL Number always, then a Delta CRL Indicator
// on a delta or a Freshest CRL pointer on a complete CRL when delta URLs are
// configured.
func extensions(p crlParams) ([]pkix.Extension, error) {
	aki, err := asn1.Marshal(struct {
		ID []byte `asn1:"optional,tag:0"`
	}{ID: subjectKeyID(p.issuer)})
	if err != nil {
		return nil, err
	}
	num, err := asn1.Marshal(big.NewInt(p.number))
	if err != nil {
		return nil, err
	}
	list := []pkix.Extension{{Id: oidAuthorityKeyID, Value: aki}, {Id: oidCRLNumber, Value: num}}
	switch {
	case p.delta:
		base, err := asn1.Marshal(big.NewInt(p.deltaBase))
		if err != nil {
			return nil, err
		}
		// RFC 5280 §5.2.4: the delta CRL indicator is critical.
		list = append(list, pkix.Extension{Id: oidDeltaCRLIndicator, Critical: true, Value: base})
	case len(p.freshest) > 0:
		ext, err := freshestCRLExtension(p.freshest)
		if err != nil {
			return nil, err
		}
		list = append(list, ext)
	}
	return list, nil
}

// freshestCRLExtension points at delta CRLs with the CRLDistributionPoints
// syntax (RFC 5280 §4.2.1.15), one full-name URI per distribution point.
func freshestCRLExtension(urls []string) (pkix.Extension, error) {
	type distributionPointName struct {
		FullName []asn1.RawValue `asn1:"optional,tag:0"`
	}
	type distributionPoint struct {
		Name distributionPointName `asn1:"optional,tag:0"`
	}
	points := make([]distributionPoint, 0, len(urls))
	for _, u := range urls {
		uri := asn1.RawValue{Tag: 6, Class: asn1.ClassContextSpecific, Bytes: []byte(u)}
		points = append(points, distributionPoint{Name: distributionPointName{FullName: []asn1.RawValue{uri}}})
	}
	v, err := asn1.Marshal(points)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("crl: encode freshest CRL: %w", err)
	}
	return pkix.Extension{Id: oidFreshestCRL, Value: v}, nil
}

// subjectKeyID is the issuer's SKID, or, for a certificate without one, the
// RFC 5280 §4.2.1.2 method 1 value (SHA-1 of the public key bits), which is
// what the issuer's own SKID would have been.
func subjectKeyID(cert *x509.Certificate) []byte {
	if len(cert.SubjectKeyId) > 0 {
		return cert.SubjectKeyId
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.PublicKey.RightAlign())
	return sum[:]
}

// resolveSigAlg picks the algorithm Go (and Vault) would pick for the key
// when none is configured, and checks a configured one suits the key.
func resolveSigAlg(pub crypto.PublicKey, alg x509.SignatureAlgorithm) (x509.SignatureAlgorithm, error) {
	var want x509.PublicKeyAlgorithm
	var def x509.SignatureAlgorithm
	switch k := pub.(type) {
	case *rsa.PublicKey:
		want, def = x509.RSA, x509.SHA256WithRSA
	case *ecdsa.PublicKey:
		want, def = x509.ECDSA, x509.ECDSAWithSHA256
		switch k.Curve {
		case elliptic.P384():
			def = x509.ECDSAWithSHA384
		case elliptic.P521():
			def = x509.ECDSAWithSHA512
		}
	case ed25519.PublicKey:
		want, def = x509.Ed25519, x509.PureEd25519
	default:
		return 0, fmt.Errorf("crl: unsupported issuer key type %T", pub)
	}
	if alg == x509.UnknownSignatureAlgorithm {
		return def, nil
	}
	if keyAlgorithmOf(alg) != want {
		return 0, fmt.Errorf("crl: signature algorithm %v does not suit the issuer's key", alg)
	}
	return alg, nil
}

func keyAlgorithmOf(alg x509.SignatureAlgorithm) x509.PublicKeyAlgorithm {
	switch alg {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return x509.RSA
	case x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return x509.ECDSA
	case x509.PureEd25519:
		return x509.Ed25519
	}
	return x509.UnknownPublicKeyAlgorithm
}

// algorithmIdentifier returns the DER AlgorithmIdentifier of alg and the
// options its signature is made with. RSA PKCS#1 v1.5 carries NULL
// parameters, ECDSA and Ed25519 none (RFC 5758, RFC 8410), RSASSA-PSS its
// hash, MGF1 and salt length (RFC 4055 §3.1), salt length = hash length.
func algorithmIdentifier(alg x509.SignatureAlgorithm) ([]byte, crypto.SignerOpts, error) {
	type pssParams struct {
		Hash       pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
		MGF        pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
		SaltLength int                      `asn1:"explicit,tag:2"`
	}
	hashAI := func(oid asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
		return pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}
	}
	var ai pkix.AlgorithmIdentifier
	var opts crypto.SignerOpts
	switch alg {
	case x509.SHA256WithRSA:
		ai, opts = hashAI(oidSHA256WithRSA), crypto.SHA256
	case x509.SHA384WithRSA:
		ai, opts = hashAI(oidSHA384WithRSA), crypto.SHA384
	case x509.SHA512WithRSA:
		ai, opts = hashAI(oidSHA512WithRSA), crypto.SHA512
	case x509.ECDSAWithSHA256:
		ai, opts = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}, crypto.SHA256
	case x509.ECDSAWithSHA384:
		ai, opts = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA384}, crypto.SHA384
	case x509.ECDSAWithSHA512:
		ai, opts = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA512}, crypto.SHA512
	case x509.PureEd25519:
		ai, opts = pkix.AlgorithmIdentifier{Algorithm: oidEd25519}, crypto.Hash(0)
	case x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		h, oid := crypto.SHA256, oidSHA256
		if alg == x509.SHA384WithRSAPSS {
			h, oid = crypto.SHA384, oidSHA384
		} else if alg == x509.SHA512WithRSAPSS {
			h, oid = crypto.SHA512, oidSHA512
		}
		mgfParams, err := asn1.Marshal(hashAI(oid))
		if err != nil {
			return nil, nil, err
		}
		params, err := asn1.Marshal(pssParams{
			Hash:       hashAI(oid),
			MGF:        pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mgfParams}},
			SaltLength: h.Size(),
		})
		if err != nil {
			return nil, nil, err
		}
		ai = pkix.AlgorithmIdentifier{Algorithm: oidRSAPSS, Parameters: asn1.RawValue{FullBytes: params}}
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	default:
		return nil, nil, errors.New("crl: unsupported signature algorithm " + alg.String())
	}
	der, err := asn1.Marshal(ai)
	if err != nil {
		return nil, nil, fmt.Errorf("crl: encode algorithm: %w", err)
	}
	return der, opts, nil
}
