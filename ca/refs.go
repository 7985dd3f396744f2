package ca

import (
	"regexp"
	"strings"

	"pkid/errs"
	"pkid/storage"
)

// DefaultRef is the reserved reference to the mount's default issuer or key.
const DefaultRef = "default"

// nameRegexp is Vault's generic name pattern (sdk/framework
// GenericNameRegex): word characters, with '-' and '.' allowed inside.
var nameRegexp = regexp.MustCompile(`^\w(?:[\w\-.]*\w)?$`)

// NormalizeRef trims a reference and folds any spelling of "default" to
// DefaultRef, as Vault does before resolving it.
func NormalizeRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if strings.EqualFold(ref, DefaultRef) {
		return DefaultRef
	}
	return ref
}

// refError is a reference that resolves to nothing. Its text is Vault's;
// callers give it the kind their endpoint answers with (mostly 500).
type refError struct{ msg string }

func (e *refError) Error() string { return e.msg }

// resolveIssuerRef resolves an issuer reference within tx: "default" (any
// case) is the configured default, a 36-character string that is an
// existing ID is that ID, anything else is matched against names.
func resolveIssuerRef(tx storage.Tx, ref string) (*issuerRecord, error) {
	ref = NormalizeRef(ref)
	if ref == DefaultRef {
		cfg, err := getIssuersConfig(tx)
		if err != nil {
			return nil, err
		}
		if cfg.Default == "" {
			return nil, &refError{"no default issuer currently configured"}
		}
		rec, err := getIssuer(tx, cfg.Default)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, &refError{"no default issuer currently configured"}
		}
		return rec, nil
	}
	if len(ref) == uuidLength {
		rec, err := getIssuer(tx, ref)
		if err != nil || rec != nil {
			return rec, err
		}
	}
	all, err := allIssuers(tx)
	if err != nil {
		return nil, err
	}
	for _, rec := range all {
		if rec.Name != "" && rec.Name == ref {
			return rec, nil
		}
	}
	return nil, &refError{"unable to find PKI issuer for reference: " + ref}
}

// resolveKeyRef is resolveIssuerRef for keys.
func resolveKeyRef(tx storage.Tx, ref string) (*keyRecord, error) {
	ref = NormalizeRef(ref)
	if ref == DefaultRef {
		cfg, err := getKeysConfig(tx)
		if err != nil {
			return nil, err
		}
		if cfg.Default == "" {
			return nil, &refError{"no default key currently configured"}
		}
		rec, err := getKey(tx, cfg.Default)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, &refError{"no default key currently configured"}
		}
		return rec, nil
	}
	if len(ref) == uuidLength {
		rec, err := getKey(tx, ref)
		if err != nil || rec != nil {
			return rec, err
		}
	}
	all, err := allKeys(tx)
	if err != nil {
		return nil, err
	}
	for _, rec := range all {
		if rec.Name != "" && rec.Name == ref {
			return rec, nil
		}
	}
	return nil, &refError{"unable to find PKI key for reference: " + ref}
}

// refErr gives an unresolved reference the kind the endpoint answers with,
// keeping Vault's text; other (storage) errors pass through.
func refErr(err error, kind errs.Kind, prefix string) error {
	if re, ok := err.(*refError); ok {
		return errs.Wrap(kind, err, prefix+re.msg)
	}
	return err
}

// isRefError reports whether err is an unresolved reference.
func isRefError(err error) bool {
	_, ok := err.(*refError)
	return ok
}

// validateIssuerName checks a new issuer name: not "default" (any case) and
// made of the generic name characters. Uniqueness is checked in the
// transaction that stores it.
func validateIssuerName(name string) error {
	if strings.EqualFold(name, DefaultRef) {
		return errs.Invalidf("reserved keyword 'default' can not be used as issuer name")
	}
	if !nameRegexp.MatchString(name) {
		return errs.Invalidf("issuer name contained invalid characters")
	}
	return nil
}

// validateKeyName is validateIssuerName for keys.
func validateKeyName(name string) error {
	if strings.EqualFold(name, DefaultRef) {
		return errs.Invalidf("reserved keyword 'default' can not be used as key name")
	}
	if !nameRegexp.MatchString(name) {
		return errs.Invalidf("key name contained invalid characters")
	}
	return nil
}

var (
	errIssuerNameInUse = errs.New(errs.Invalid, "issuer name already in use")
	errKeyNameInUse    = errs.New(errs.Invalid, "key name already in use")
)

// issuerNameTaken reports whether another issuer than exceptID has name.
func issuerNameTaken(tx storage.Tx, name, exceptID string) (bool, error) {
	if name == "" {
		return false, nil
	}
	all, err := allIssuers(tx)
	if err != nil {
		return false, err
	}
	for _, rec := range all {
		if rec.Name == name && rec.ID != exceptID {
			return true, nil
		}
	}
	return false, nil
}

// keyNameTaken reports whether another key than exceptID has name.
func keyNameTaken(tx storage.Tx, name, exceptID string) (bool, error) {
	if name == "" {
		return false, nil
	}
	all, err := allKeys(tx)
	if err != nil {
		return false, err
	}
	for _, rec := range all {
		if rec.Name == name && rec.ID != exceptID {
			return true, nil
		}
	}
	return false, nil
}
