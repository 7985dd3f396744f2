package roles

import (
	"fmt"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

// Issuer leaf_not_after_behavior values.
const (
	NotAfterErr      = "err"
	NotAfterTruncate = "truncate"
	NotAfterPermit   = "permit"
)

// ValidityInput is everything the leaf validity rule reads (spec §7.3).
type ValidityInput struct {
	Now time.Time
	// The request's ttl (0: none) and not_after (RFC 3339, "": none).
	TTL      time.Duration
	NotAfter string
	// The role's ttl, max_ttl (0: none) and not_after ("": none).
	RoleTTL      time.Duration
	RoleMaxTTL   time.Duration
	RoleNotAfter string
	// The mount's effective default and max lease TTLs.
	MountDefaultTTL time.Duration
	MountMaxTTL     time.Duration
	// IssuerNotAfter is the signing issuer's NotAfter; zero skips the
	// issuer clamp. Behavior is its leaf_not_after_behavior ("" is err).
	IssuerNotAfter time.Time
	Behavior       string
	// NotBeforeDuration backdates NotBefore; zero or less means Vault's 30s.
	NotBeforeDuration time.Duration
}

// Validity is a leaf's validity window and the warnings that explain it.
type Validity struct {
	NotBefore time.Time
	NotAfter  time.Time
	Warnings  []string
}

// ComputeValidity is the leaf validity rule of spec §7.3. A TTL above the
// max is truncated with Vault's warning, not refused. NotAfter keeps the
// clock's sub-second precision when compared with the issuer's (whole
// second) NotAfter, so a leaf asking for exactly the CA's remaining life is
// refused under "err", as on Vault (spec Appendix C).
func ComputeValidity(in ValidityInput) (Validity, error) {
	var v Validity
	notAfterStr := in.RoleNotAfter
	if notAfterStr == "" {
		notAfterStr = in.NotAfter
	}
	if in.TTL > 0 && notAfterStr != "" {
		return v, errs.Invalidf("Either ttl or not_after should be provided. Both should not be provided in the same request.")
	}
	ttl, maxTTL := in.TTL, in.RoleMaxTTL
	if ttl == 0 {
		ttl = in.RoleTTL
	}
	if ttl == 0 {
		ttl = in.MountDefaultTTL
	}
	if maxTTL == 0 {
		maxTTL = in.MountMaxTTL
	}
	if ttl > maxTTL {
		// Computed even when not_after decides NotAfter, so such a request
		// still carries the warning (Appendix C).
		v.Warnings = append(v.Warnings, fmt.Sprintf("TTL %q is longer than permitted maxTTL %q, so maxTTL is being used", ttl, maxTTL))
		ttl = maxTTL
	}
	if notAfterStr != "" {
		t, err := time.Parse(time.RFC3339, notAfterStr)
		if err != nil {
			return v, errs.Invalidf("%s", err.Error())
		}
		v.NotAfter = t
	} else {
		v.NotAfter = in.Now.Add(ttl)
	}
	na, err := clampToIssuer(v.NotAfter, in)
	if err != nil {
		return v, err
	}
	v.NotAfter = na
	back := in.NotBeforeDuration
	if back <= 0 {
		back = defaultNotBeforeDuration
	}
	v.NotBefore = in.Now.Add(-back)
	switch {
	case v.NotBefore.After(v.NotAfter):
		return v, errs.Invalidf("The certificate's Not Before (%v) is later than the certificate's Not After (%v)", v.NotBefore.String(), v.NotAfter.String())
	case v.NotBefore.Equal(v.NotAfter):
		return v, errs.Invalidf("The certificate's Not Before (%v) is equal to the certificate's Not After (%v)", v.NotBefore.String(), v.NotAfter.String())
	}
	return v, nil
}

// clampToIssuer applies the issuer's leaf_not_after_behavior to a NotAfter
// beyond the issuer's own.
func clampToIssuer(notAfter time.Time, in ValidityInput) (time.Time, error) {
	if in.IssuerNotAfter.IsZero() || !notAfter.After(in.IssuerNotAfter) {
		return notAfter, nil
	}
	switch in.Behavior {
	case NotAfterPermit:
		return notAfter, nil
	case NotAfterTruncate:
		if in.IssuerNotAfter.Before(in.Now) {
			return time.Time{}, errs.Invalidf("cannot satisfy request, as NotAfter date %s is in the past",
				in.IssuerNotAfter.UTC().Format(time.RFC3339Nano))
		}
		return in.IssuerNotAfter, nil
	}
	return time.Time{}, errs.Invalidf("cannot satisfy request, as TTL would result in notAfter of %s that is beyond the expiration of the CA certificate at %s",
		notAfter.UTC().Format(time.RFC3339Nano), in.IssuerNotAfter.UTC().Format(time.RFC3339Nano))
}
