package ca

import (
	"regexp"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
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

// recordKind is what issuers and keys differ in for the rules they share:
// Vault resolves references to both, and checks the names of both, alike.
type recordKind[R any] struct {
	noun      string // "issuer" or "key", as Vault's messages say
	get       func(storage.Tx, string) (*R, error)
	all       func(storage.Tx) ([]*R, error)
	defaultID func(storage.Tx) (string, error)
	idName    func(*R) (id, name string)
}

var (
	issuerKind = recordKind[records.Issuer]{
		noun: "issuer", get: records.GetIssuer, all: records.AllIssuers,
		defaultID: func(tx storage.Tx) (string, error) { cfg, err := records.GetIssuersConfig(tx); return cfg.Default, err },
		idName:    func(r *records.Issuer) (string, string) { return r.ID, r.Name },
	}
	keyKind = recordKind[records.Key]{
		noun: "key", get: records.GetKey, all: records.AllKeys,
		defaultID: func(tx storage.Tx) (string, error) { cfg, err := records.GetKeysConfig(tx); return cfg.Default, err },
		idName:    func(r *records.Key) (string, string) { return r.ID, r.Name },
	}
)

// resolve resolves a reference within tx: "default" (any case) is the
// configured default, a 36-character string that is an existing ID is that
// ID, anything else is matched against names.
func (k recordKind[R]) resolve(tx storage.Tx, ref string) (*R, error) {
	ref = NormalizeRef(ref)
	if ref == DefaultRef {
		id, err := k.defaultID(tx)
		if err != nil {
			return nil, err
		}
		var rec *R
		if id != "" {
			if rec, err = k.get(tx, id); err != nil {
				return nil, err
			}
		}
		if rec == nil {
			return nil, &refError{"no default " + k.noun + " currently configured"}
		}
		return rec, nil
	}
	if len(ref) == uuidLength {
		rec, err := k.get(tx, ref)
		if err != nil || rec != nil {
			return rec, err
		}
	}
	rec, err := k.named(tx, ref, "")
	if err != nil || rec != nil {
		return rec, err
	}
	return nil, &refError{"unable to find PKI " + k.noun + " for reference: " + ref}
}

// named returns the record other than exceptID called name; nil when there
// is none, or name is "".
func (k recordKind[R]) named(tx storage.Tx, name, exceptID string) (*R, error) {
	if name == "" {
		return nil, nil
	}
	all, err := k.all(tx)
	if err != nil {
		return nil, err
	}
	for _, rec := range all {
		if id, n := k.idName(rec); n == name && id != exceptID {
			return rec, nil
		}
	}
	return nil, nil
}

// nameTaken reports whether a record other than exceptID has name.
func (k recordKind[R]) nameTaken(tx storage.Tx, name, exceptID string) (bool, error) {
	rec, err := k.named(tx, name, exceptID)
	return rec != nil, err
}

// validateName checks a new name: not "default" (any case) and made of the
// generic name characters. Uniqueness is checked in the transaction that
// stores it.
func (k recordKind[R]) validateName(name string) error {
	if strings.EqualFold(name, DefaultRef) {
		return errs.Invalidf("reserved keyword 'default' can not be used as %s name", k.noun)
	}
	if !nameRegexp.MatchString(name) {
		return errs.Invalidf("%s name contained invalid characters", k.noun)
	}
	return nil
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

var (
	errIssuerNameInUse = errs.New(errs.Invalid, "issuer name already in use")
	errKeyNameInUse    = errs.New(errs.Invalid, "key name already in use")
)
