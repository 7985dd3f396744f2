package ca

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
)

// serialLimit is 2^159: serials drawn below it have at most 20 octets and a
// clear top bit, so they are positive in DER as RFC 5280 §4.1.2.2 requires.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 159)

// NewSerial returns a certificate serial number drawn uniformly from
// [0, 2^159), as Vault draws every serial it issues (spec §5.1). Render it
// with crl.FormatSerial. rnd is the injected random source.
func NewSerial(rnd io.Reader) (*big.Int, error) {
	n, err := rand.Int(rnd, serialLimit)
	if err != nil {
		return nil, fmt.Errorf("ca: generate serial number: %w", err)
	}
	return n, nil
}
