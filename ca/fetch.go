package ca

import (
	"crypto/x509"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// DefaultCA returns the default issuer's chain (the issuer first) for the
// legacy fetch paths: ca, ca/pem, ca_chain, cert/ca, cert/ca_chain and
// their raw forms. Like Vault, these fetch the issuer as a signer, so a
// missing default or a keyless default is an errs.Invalid error (cert/ca
// answers 400 with it; the raw paths answer 204).
func (a *Authority) DefaultCA() ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		si, err := a.loadIssuer(tx, DefaultRef, 0)
		switch err.(type) {
		case nil:
			chain = si.Chain
			return nil
		case *refError, *noKeyError, *usageDeniedError, *aiaError:
			return errs.Wrap(errs.Invalid, err, err.Error())
		}
		return err
	})
	return chain, err
}
