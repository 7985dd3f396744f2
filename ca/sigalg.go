package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
)

// SignatureAlgorithm is the algorithm an issuer key signs with on the
// generation and issue paths (root/generate, intermediate CSRs, issue/:role),
// spec §5.6:
//
//   - RSA: SHA-256, SHA-384 or SHA-512 by signatureBits (anything else,
//     including 0, means SHA-256), with PSS padding when usePSS is set;
//   - ECDSA: the hash that matches the signer's curve (P-224 and P-256 →
//     SHA-256, P-384 → SHA-384, P-521 → SHA-512) whatever signatureBits says,
//     following NIST and Mozilla guidance as Vault does;
//   - Ed25519: PureEd25519.
//
// signer is the public key of the signing (issuer) key, not of the subject.
func SignatureAlgorithm(signer crypto.PublicKey, signatureBits int, usePSS bool) x509.SignatureAlgorithm {
	switch k := signer.(type) {
	case *rsa.PublicKey:
		return rsaAlgorithm(signatureBits, usePSS)
	case *ecdsa.PublicKey:
		return ecdsaAlgorithmForCurve(k.Curve)
	case ed25519.PublicKey:
		return x509.PureEd25519
	}
	return x509.UnknownSignatureAlgorithm
}

// CSRSignatureAlgorithm is SignatureAlgorithm for the CSR-signing paths
// (sign/:role, sign-verbatim, root/sign-intermediate). There Vault lets a
// non-zero signatureBits pick the ECDSA hash even when it does not match the
// curve (certutil signCertificate); only 0 falls back to the curve's hash.
// Together with CSRSignatureBits this reproduces the quirk that a P-384
// issuer signs an RSA CSR with ECDSA-SHA256.
func CSRSignatureAlgorithm(signer crypto.PublicKey, signatureBits int, usePSS bool) x509.SignatureAlgorithm {
	if _, ok := signer.(*ecdsa.PublicKey); ok {
		switch signatureBits {
		case 256:
			return x509.ECDSAWithSHA256
		case 384:
			return x509.ECDSAWithSHA384
		case 512:
			return x509.ECDSAWithSHA512
		}
	}
	return SignatureAlgorithm(signer, signatureBits, usePSS)
}

// CSRSignatureBits is the signature_bits Vault ends up with on the paths
// that sign a CSR under a synthetic role of key_type "any"
// (root/sign-intermediate, sign-verbatim): the request's value, except that
// 0 becomes 256 when the CSR's key is RSA (the RSA default is taken from the
// CSR's key type, not the issuer's).
func CSRSignatureBits(csrKey crypto.PublicKey, requested int) int {
	if requested == 0 && KeyTypeOf(csrKey) == KeyTypeRSA {
		return 256
	}
	return requested
}

func rsaAlgorithm(bits int, usePSS bool) x509.SignatureAlgorithm {
	if usePSS {
		switch bits {
		case 384:
			return x509.SHA384WithRSAPSS
		case 512:
			return x509.SHA512WithRSAPSS
		}
		return x509.SHA256WithRSAPSS
	}
	switch bits {
	case 384:
		return x509.SHA384WithRSA
	case 512:
		return x509.SHA512WithRSA
	}
	return x509.SHA256WithRSA
}

func ecdsaAlgorithmForCurve(c elliptic.Curve) x509.SignatureAlgorithm {
	switch c {
	case elliptic.P384():
		return x509.ECDSAWithSHA384
	case elliptic.P521():
		return x509.ECDSAWithSHA512
	}
	return x509.ECDSAWithSHA256
}

// signatureAlgorithmNames are the revocation_signature_algorithm values
// Vault accepts (lower-cased), certutil SignatureAlgorithmNames.
var signatureAlgorithmNames = map[string]x509.SignatureAlgorithm{
	"sha256withrsa":    x509.SHA256WithRSA,
	"sha384withrsa":    x509.SHA384WithRSA,
	"sha512withrsa":    x509.SHA512WithRSA,
	"ecdsawithsha256":  x509.ECDSAWithSHA256,
	"ecdsawithsha384":  x509.ECDSAWithSHA384,
	"ecdsawithsha512":  x509.ECDSAWithSHA512,
	"sha256withrsapss": x509.SHA256WithRSAPSS,
	"sha384withrsapss": x509.SHA384WithRSAPSS,
	"sha512withrsapss": x509.SHA512WithRSAPSS,
	"pureed25519":      x509.PureEd25519,
	"ed25519":          x509.PureEd25519,
}

// signatureAlgorithmName renders an algorithm as Vault does in issuer
// answers ("SHA256WithRSA", "Ed25519"); "" for none.
func signatureAlgorithmName(alg x509.SignatureAlgorithm) string {
	switch alg {
	case x509.UnknownSignatureAlgorithm:
		return ""
	case x509.PureEd25519:
		return "Ed25519"
	case x509.SHA256WithRSA:
		return "SHA256WithRSA"
	case x509.SHA384WithRSA:
		return "SHA384WithRSA"
	case x509.SHA512WithRSA:
		return "SHA512WithRSA"
	case x509.ECDSAWithSHA256:
		return "ECDSAWithSHA256"
	case x509.ECDSAWithSHA384:
		return "ECDSAWithSHA384"
	case x509.ECDSAWithSHA512:
		return "ECDSAWithSHA512"
	case x509.SHA256WithRSAPSS:
		return "SHA256WithRSAPSS"
	case x509.SHA384WithRSAPSS:
		return "SHA384WithRSAPSS"
	case x509.SHA512WithRSAPSS:
		return "SHA512WithRSAPSS"
	}
	return alg.String()
}

// algorithmSuitsKey reports whether an issuer with a key of this public key
// algorithm can sign with alg (Vault's CanMaybeSignWithAlgo).
func algorithmSuitsKey(pub x509.PublicKeyAlgorithm, alg x509.SignatureAlgorithm) bool {
	if alg == x509.UnknownSignatureAlgorithm {
		return true
	}
	switch pub {
	case x509.RSA:
		switch alg {
		case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
			x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
			return true
		}
	case x509.ECDSA:
		switch alg {
		case x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
			return true
		}
	case x509.Ed25519:
		return alg == x509.PureEd25519
	}
	return false
}
