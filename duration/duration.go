// Package duration parses durations as Vault writes them: a whole number
// of seconds ("3600"), whole days ("30d"), or Go's syntax ("72h", "1h30m").
//
// It is a value format, not a wire one: stored records keep durations in
// these strings (config/crl echoes "72h" back as given), so domain
// packages parse them too, without the API's field decoding.
package duration

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

var errRange = errors.New("duration out of range")

// Parse reads s; an empty or blank string is zero, as in Vault's
// parseutil.ParseDurationSecond.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Seconds(n)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return 0, err
		}
		if n > math.MaxInt64/int64(24*time.Hour) || n < math.MinInt64/int64(24*time.Hour) {
			return 0, errRange
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Seconds is n seconds, or an error where that overflows a Duration.
func Seconds(n int64) (time.Duration, error) {
	if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
		return 0, errRange
	}
	return time.Duration(n) * time.Second, nil
}

// SecondsFloat is f seconds, the fraction dropped as Vault drops it.
func SecondsFloat(f float64) (time.Duration, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > float64(math.MaxInt64/int64(time.Second)) {
		return 0, errRange
	}
	return time.Duration(int64(f)) * time.Second, nil
}
