package token

import (
	"fmt"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// ttlPlan is what Vault's framework.CalculateTTL needs to know.
type ttlPlan struct {
	asked    time.Duration // the increment or the TTL asked for; 0 means the default
	def      time.Duration // the default TTL
	period   time.Duration
	max      time.Duration // the mount's max, or a smaller backend max
	explicit time.Duration // the token's explicit max TTL
	start    time.Time     // the token's creation
}

// calculateTTL is Vault's framework.CalculateTTL: a periodic token gets its
// period, capped by the effective max; any other gets what it asked (or the
// default), capped so it ends no later than start plus the effective max.
// A cap comes with Vault's warning.
func calculateTTL(p ttlPlan, now time.Time) (time.Duration, []string, error) {
	now = now.Truncate(time.Second)
	start := p.start.Truncate(time.Second)
	maxTTL := p.max
	if p.explicit > 0 && p.explicit < maxTTL {
		maxTTL = p.explicit
	}
	if maxTTL <= 0 {
		return 0, nil, fmt.Errorf("max TTL must be greater than zero")
	}
	var warnings []string
	var ttl time.Duration
	var maxValid time.Time
	if p.period > 0 {
		ttl = p.period
		if ttl > maxTTL {
			warnings = append(warnings, fmt.Sprintf("period of %q exceeded the effective max_ttl of %q; period value is capped accordingly",
				humanDuration(ttl), humanDuration(maxTTL)))
			ttl = maxTTL
		}
		if p.explicit > 0 {
			maxValid = start.Add(p.explicit)
		}
	} else {
		ttl = p.asked
		if ttl <= 0 {
			ttl = p.def
		}
		maxValid = start.Add(maxTTL)
	}
	if !maxValid.IsZero() {
		left := maxValid.Sub(now)
		if left <= 0 {
			return 0, nil, errs.Invalidf("past the max TTL, cannot renew")
		}
		if ttl > left {
			warnings = append(warnings, fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly",
				humanDuration(ttl), humanDuration(left)))
			ttl = left
		}
	}
	return ttl, warnings, nil
}

// humanDuration is Vault's way of printing a duration in TTL warnings:
// "768h" rather than "768h0m0s".
func humanDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if i := strings.Index(s, "h0m"); i > 0 {
		s = s[:i+1] + s[i+3:]
	}
	return s
}

// maxTTL is the effective max of a token: its own (a login's or its
// mount's), else the store's.
func (s *Store) maxTTL(own time.Duration) time.Duration {
	if own > 0 {
		return own
	}
	return s.MaxTTL
}

// setTTL gives a new token its TTL as Vault's token store does. A root
// token asked without TTL or period never expires (unless it has an
// explicit max, which it then lives for); any other goes through
// calculateTTL.
func (s *Store) setTTL(e *Entry, req CreateRequest) error {
	e.ExplicitMaxTTL = req.ExplicitMaxTTL
	ttl := req.ExplicitMaxTTL
	if req.Period > 0 || req.TTL > 0 || !e.IsRoot() {
		def := req.DefaultTTL
		if def == 0 {
			def = s.DefaultTTL
		}
		var err error
		ttl, e.Warnings, err = calculateTTL(ttlPlan{
			asked: req.TTL, def: def, period: req.Period, max: s.maxTTL(req.MaxTTL),
			explicit: req.ExplicitMaxTTL, start: e.CreationTime,
		}, e.CreationTime)
		if err != nil {
			return err
		}
	}
	e.TTL = ttl
	if ttl > 0 {
		e.ExpireTime = e.CreationTime.Add(ttl)
	}
	return nil
}

// Renew extends a renewable token by increment (or its creation TTL) as
// Vault's expiration manager does: never past its creation plus its
// effective max, a periodic token by its period. A token that never
// expires has no lease to renew.
func (s *Store) Renew(e *Entry, increment time.Duration) (*Entry, error) {
	if e.ExpireTime.IsZero() || !e.Renewable {
		return nil, errs.Invalidf("lease is not renewable")
	}
	now := s.clock.Now().UTC()
	ttl, warnings, err := calculateTTL(ttlPlan{
		asked: increment, def: e.TTL, period: e.Period, max: s.maxTTL(e.MaxTTL),
		explicit: e.ExplicitMaxTTL, start: e.CreationTime,
	}, now)
	if err != nil {
		return nil, err
	}
	out := *e
	out.ExpireTime = now.Add(ttl)
	out.LastRenewal = now
	err = s.space.Update(func(tx storage.Tx) error {
		return storage.PutJSON(tx, idPrefix+out.Hash, &out)
	})
	if err != nil {
		return nil, err
	}
	out.Warnings = warnings
	return &out, nil
}
