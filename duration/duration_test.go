package duration

import (
	"math"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"  ", 0, false},
		{"3600", time.Hour, false},
		{"-5", -5 * time.Second, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"72h", 72 * time.Hour, false},
		{" 1h30m ", 90 * time.Minute, false},
		{"1.5h", 90 * time.Minute, false},
		{"xd", 0, true},
		{"1.5d", 0, true},
		{"106752d", 0, true},
		{"9223372036854775807", 0, true},
		{"abc", 0, true},
		{"1y", 0, true},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestSecondsFloat(t *testing.T) {
	cases := []struct {
		in      float64
		want    time.Duration
		wantErr bool
	}{
		{1.9, time.Second, false},
		{-2.5, -2 * time.Second, false},
		{math.NaN(), 0, true},
		{math.Inf(1), 0, true},
		{1e19, 0, true},
	}
	for _, c := range cases {
		got, err := SecondsFloat(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("SecondsFloat(%v) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "3600", "30d", "72h", "-1d", "1e9h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil && d != 0 {
			t.Fatalf("Parse(%q) = %v with error %v", s, d, err)
		}
	})
}
