package roles

import (
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 DSA keys are recognised only to be refused as Vault refuses them
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/pkid-dev/pkid/errs"
)

// rsaMinBits is the smallest RSA key Vault accepts anywhere.
const rsaMinBits = 2048

// ResolveKeyParams fills a zero key_bits with the type's default (rsa 2048,
// ec 256) and a zero signature_bits with 256 for rsa, checks both, and
// returns them; ed25519 and any carry no signature size. It is Vault's
// ValidateDefaultOrValueKeyTypeSignatureLength, with its messages.
func ResolveKeyParams(keyType string, keyBits, sigBits int) (int, int, error) {
	switch keyType {
	case "rsa":
		if keyBits == 0 {
			keyBits = 2048
		}
		if keyBits < rsaMinBits {
			return 0, 0, errs.Invalidf("RSA keys < %d bits are unsafe and not supported: got %d", rsaMinBits, keyBits)
		}
		switch keyBits {
		case 2048, 3072, 4096, 8192:
		default:
			return 0, 0, errs.Invalidf("unsupported bit length for RSA key: %d", keyBits)
		}
		if sigBits == 0 {
			sigBits = 256
		}
		switch sigBits {
		case 256, 384, 512:
		default:
			return 0, 0, errs.Invalidf("unsupported hash signature algorithm: %d", sigBits)
		}
	case "ec":
		if keyBits == 0 {
			keyBits = 256
		}
		switch keyBits {
		case 224, 256, 384, 521:
		default:
			return 0, 0, errs.Invalidf("unsupported bit length for EC key: %d", keyBits)
		}
		// The hash of an EC signature follows the issuer's curve; the
		// value is kept as sent (Vault does not check it).
	case "ed25519", "any":
		sigBits = 0
	default:
		return 0, 0, errs.Invalidf("unknown key type %s", keyType)
	}
	return keyBits, sigBits, nil
}

// KeySpec is the key a leaf gets: for issue, what to generate; for sign,
// what the CSR holds. SignatureBits and UsePSS only matter when the issuer
// key is RSA (and, on the CSR paths, SignatureBits picks an EC hash too).
type KeySpec struct {
	Type          string // rsa, ec, ed25519
	Bits          int    // rsa modulus or ec curve size; 0 for ed25519
	SignatureBits int
	UsePSS        bool
}

// IssueKey decides the key an issue request gets. A role with key_type any
// takes the request's key_type (mandatory) and key_bits; other roles ignore
// them, with Vault's warning. A request key that fails validation under an
// "any" role is Vault's 500 "failed to validate role: ..." (Appendix C).
func (r *Role) IssueKey(reqType *string, reqBits *int) (KeySpec, []string, error) {
	spec := KeySpec{Type: r.KeyType, Bits: r.KeyBits, SignatureBits: r.SignatureBits, UsePSS: r.UsePSS}
	if r.KeyType != "any" {
		if reqType != nil || reqBits != nil {
			return spec, []string{"parameters key_type and key_bits ignored as role had specific values"}, nil
		}
		return spec, nil, nil
	}
	if reqType == nil {
		return KeySpec{}, nil, errs.Invalidf(`role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters`)
	}
	spec.Type = *reqType
	if reqBits != nil {
		spec.Bits = *reqBits
	}
	bits, sigBits, err := ResolveKeyParams(spec.Type, spec.Bits, spec.SignatureBits)
	if err == nil && spec.Type == "any" {
		err = fmt.Errorf("unknown key type any")
	}
	if err != nil {
		return KeySpec{}, nil, errs.Wrap(errs.InvalidVault500, err, "failed to validate role: "+errs.Message(err))
	}
	spec.Bits, spec.SignatureBits = bits, sigBits
	return spec, nil, nil
}

// CheckCSRKey checks a CSR's public key against the role (spec §3.1 sign,
// §4.5): the key type must match unless the role says any, and the role's
// key_bits is a minimum. Under any, the minimums are RSA 2048 and P-224, and
// the signature size is recomputed for the key's type. It returns the
// CSR key's type and size with the signature parameters to use.
func (r *Role) CheckCSRKey(pub crypto.PublicKey) (KeySpec, error) {
	actualType, actualBits, err := describeKey(pub)
	if err != nil {
		return KeySpec{}, err
	}
	minBits, sigBits := r.KeyBits, r.SignatureBits
	switch r.KeyType {
	case "any":
		if actualType == "" {
			return KeySpec{}, errs.Invalidf("Unknown key type in CSR: %s", x509.DSA)
		}
		if actualType == "rsa" && actualBits < rsaMinBits {
			return KeySpec{}, errs.Invalidf("RSA keys < %d bits are unsafe and not supported", rsaMinBits)
		}
		minBits, sigBits, err = ResolveKeyParams(actualType, 0, r.SignatureBits)
		if err != nil {
			return KeySpec{}, errs.Wrap(errs.InvalidVault500, err,
				"unknown internal error updating default values: "+errs.Message(err))
		}
		if actualType == "ec" {
			// P-224 stays acceptable under any, though 256 is the default
			// for generation.
			minBits = 224
		}
	case actualType:
	case "rsa", "ec", "ed25519":
		return KeySpec{}, errs.Invalidf("role requires keys of type %s", r.KeyType)
	default:
		return KeySpec{}, errs.Newf(errs.InvalidVault500, "unsupported key type value: %s", r.KeyType)
	}
	if (actualType == "rsa" || actualType == "ec") && actualBits < minBits {
		return KeySpec{}, errs.Invalidf("role requires a minimum of a %d-bit key, but CSR's key is %d bits", minBits, actualBits)
	}
	if actualType == "rsa" && actualBits < rsaMinBits {
		return KeySpec{}, errs.Invalidf("Vault requires a minimum of a %d-bit key, but CSR's key is %d bits", rsaMinBits, actualBits)
	}
	return KeySpec{Type: actualType, Bits: actualBits, SignatureBits: sigBits, UsePSS: r.UsePSS}, nil
}

// describeKey names a public key as Vault's key types do. Vault sorts the
// other keys Go parses by the CSR's x509.PublicKeyAlgorithm: DSA, the only
// other algorithm x509 names, comes back as type "" for the role check to
// refuse (by the type a typed role needs, as unknown under "any"); a key
// with no algorithm (X25519, say) is refused first, as an empty key.
func describeKey(pub crypto.PublicKey) (string, int, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "rsa", k.N.BitLen(), nil
	case *ecdsa.PublicKey:
		return "ec", k.Curve.Params().BitSize, nil
	case ed25519.PublicKey:
		return "ed25519", 0, nil
	case *dsa.PublicKey:
		return "", 0, nil
	}
	return "", 0, errs.Invalidf("Refusing to sign CSR with empty PublicKey. This usually means the SubjectPublicKeyInfo field has an OID not recognized by Go, such as 1.2.840.113549.1.1.10 for rsaPSS.")
}
