package ca

import (
	"fmt"
	"time"

	"github.com/pkid-dev/pkid/errs"
)

// MountTTLs are the effective lease TTLs of the mount serving a request
// (the mount's own, else the system's). Zero values mean Vault's system
// defaults, 768h each.
type MountTTLs struct {
	Default time.Duration
	Max     time.Duration
}

// systemTTL is Vault's default and max lease TTL (spec §7.2).
const systemTTL = 768 * time.Hour

func (m MountTTLs) withDefaults() MountTTLs {
	if m.Default <= 0 {
		m.Default = systemTTL
	}
	if m.Max <= 0 {
		m.Max = systemTTL
	}
	return m
}

// ValidityFields are the validity fields of the CA blocks.
type ValidityFields struct {
	// TTL is the requested lifetime; 0 means the mount's default TTL.
	TTL time.Duration
	// NotAfter is an absolute RFC 3339 NotAfter, exclusive with TTL.
	NotAfter string
	// NotBeforeDuration backdates NotBefore; nil or 0 means 30s.
	NotBeforeDuration *time.Duration
}

// defaultBackdate is Vault's NotBefore backdating.
const defaultBackdate = 30 * time.Second

// caValidity computes the validity of a CA certificate (spec §7.3 for
// root/generate and sign-intermediate): ttl or not_after; the ttl defaults
// to the mount's default and is capped at the mount's max with Vault's
// warning (not an error); NotBefore is now minus not_before_duration.
func caValidity(now time.Time, f ValidityFields, m MountTTLs) (notBefore, notAfter time.Time, warnings []string, err error) {
	m = m.withDefaults()
	if f.TTL > 0 && f.NotAfter != "" {
		return time.Time{}, time.Time{}, nil, errs.Invalidf("Either ttl or not_after should be provided. Both should not be provided in the same request.")
	}
	ttl := f.TTL
	if ttl == 0 {
		ttl = m.Default
	}
	if ttl > m.Max {
		warnings = append(warnings, fmt.Sprintf("TTL %q is longer than permitted maxTTL %q, so maxTTL is being used", ttl, m.Max))
		ttl = m.Max
	}
	if f.NotAfter != "" {
		notAfter, err = time.Parse(time.RFC3339, f.NotAfter)
		if err != nil {
			return time.Time{}, time.Time{}, nil, errs.Invalidf("%v", err)
		}
	} else {
		notAfter = now.Add(ttl)
	}
	backdate := defaultBackdate
	if f.NotBeforeDuration != nil && *f.NotBeforeDuration > 0 {
		backdate = *f.NotBeforeDuration
	}
	notBefore = now.Add(-backdate)
	// Vault (certutil) words these with UTC RFC 3339 times.
	nb, na := notBefore.UTC().Format(time.RFC3339Nano), notAfter.UTC().Format(time.RFC3339Nano)
	switch {
	case notBefore.After(notAfter):
		return time.Time{}, time.Time{}, nil, errs.Invalidf("The certificate's Not Before (%v) is later than the certificate's Not After (%v)", nb, na)
	case notBefore.Equal(notAfter):
		return time.Time{}, time.Time{}, nil, errs.Invalidf("The certificate's Not Before (%v) is equal to the certificate's Not After (%v)", nb, na)
	}
	return notBefore, notAfter, warnings, nil
}
