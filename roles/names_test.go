package roles

import (
	"testing"
)

// nameCase is one name against one role: every rule of spec §4.2–4.3 has at
// least one allowed and one refused case below.
type nameCase struct {
	rule string
	role map[string]any
	name string
	ok   bool
}

func TestNamePolicy(t *testing.T) {
	t.Parallel()
	ex := "example.com"
	cases := []nameCase{
		// allowed_domains + allow_bare_domains
		{"bare allowed", map[string]any{"allowed_domains": ex, "allow_bare_domains": true}, "example.com", true},
		{"bare is case-insensitive", map[string]any{"allowed_domains": ex, "allow_bare_domains": true}, "EXAMPLE.com", true},
		{"bare needs the flag", map[string]any{"allowed_domains": ex}, "example.com", false},
		{"bare does not allow subdomains", map[string]any{"allowed_domains": ex, "allow_bare_domains": true}, "www.example.com", false},
		// allow_subdomains
		{"subdomain", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "www.example.com", true},
		{"deep subdomain", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "a.b.example.com", true},
		{"subdomain needs the flag", map[string]any{"allowed_domains": ex}, "www.example.com", false},
		{"subdomain suffix is case-sensitive", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "www.EXAMPLE.COM", false},
		{"subdomain is not a suffix match", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "evilexample.com", false},
		{"subdomain does not allow the base", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "example.com", false},
		{"other domain", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "www.example.org", false},
		{"empty entries are skipped", map[string]any{"allowed_domains": "example.com,", "allow_subdomains": true}, "a.example.com", true},
		// wildcards
		{"wildcard via subdomains", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "*.example.com", true},
		{"wildcard base case-insensitive", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "*.EXAMPLE.com", true},
		{"partial wildcard label", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "b*z.example.com", true},
		{"wildcard without subdomains", map[string]any{"allowed_domains": ex, "allow_bare_domains": true}, "*.example.com", false},
		{"literal wildcard entry with bare", map[string]any{"allowed_domains": "*.example.com", "allow_bare_domains": true}, "*.example.com", true},
		{"wildcards off", map[string]any{"allowed_domains": ex, "allow_subdomains": true, "allow_wildcard_certificates": false}, "*.example.com", false},
		{"wildcards off beat allow_any_name", map[string]any{"allow_any_name": true, "allow_wildcard_certificates": false}, "*.example.com", false},
		{"two wildcards", map[string]any{"allow_any_name": true}, "*.*.example.com", false},
		{"double star label", map[string]any{"allow_any_name": true}, "**.example.com", false},
		{"wildcard not leftmost", map[string]any{"allow_any_name": true}, "a.*.example.com", false},
		{"bad wildcard label under enforce_hostnames", map[string]any{"allow_any_name": true}, "-*.example.com", false},
		{"bad wildcard label without enforce_hostnames", map[string]any{"allow_any_name": true, "enforce_hostnames": false}, "-*.example.com", true},
		{"bare star", map[string]any{"allow_any_name": true}, "*", true},
		// allow_glob_domains
		{"glob crosses dots", map[string]any{"allowed_domains": "*.example.com", "allow_glob_domains": true}, "a.b.example.com", true},
		{"glob inside label", map[string]any{"allowed_domains": "ftp*.example.com", "allow_glob_domains": true}, "ftp01.example.com", true},
		{"glob miss", map[string]any{"allowed_domains": "ftp*.example.com", "allow_glob_domains": true}, "www.example.com", false},
		{"glob needs the flag", map[string]any{"allowed_domains": "*.example.com"}, "a.example.com", false},
		// Vault ≥ 1.15 lower-cases both sides (hashicorp/vault#22126).
		{"glob is case-insensitive", map[string]any{"allowed_domains": "ftp*.example.com", "allow_glob_domains": true}, "FTP1.example.com", true},
		{"glob pattern case-insensitive", map[string]any{"allowed_domains": "FTP*.Example.COM", "allow_glob_domains": true}, "ftp1.example.com", true},
		{"glob absorbs e-mail local part", map[string]any{"allowed_domains": "*.example.com", "allow_glob_domains": true}, "user@mail.example.com", true},
		// allow_any_name and enforce_hostnames
		{"any name", map[string]any{"allow_any_name": true}, "anything.example.net", true},
		{"any name still enforces hostnames", map[string]any{"allow_any_name": true}, "under_score.example.net", false},
		{"any name without hostname rules", map[string]any{"allow_any_name": true, "enforce_hostnames": false}, "under_score.example.net", true},
		{"any name with spaces refused", map[string]any{"allow_any_name": true}, "My Service", false},
		{"any name with spaces, no enforcement", map[string]any{"allow_any_name": true, "enforce_hostnames": false}, "My Service", true},
		{"empty label", map[string]any{"allow_any_name": true}, "a..example.com", false},
		{"label starting with hyphen", map[string]any{"allow_any_name": true}, "-a.example.com", false},
		{"IDN converts", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "bücher.example.com", true},
		{"trailing dot hostname", map[string]any{"allow_any_name": true}, "www.example.com.", true},
		{"no domains, no any: refused", map[string]any{}, "www.example.com", false},
		// allow_localhost
		{"localhost by default", map[string]any{}, "localhost", true},
		{"localdomain by default", map[string]any{}, "localdomain", true},
		{"localhost off", map[string]any{"allow_localhost": false}, "localhost", false},
		{"sub.localhost needs subdomains", map[string]any{}, "app.localhost", false},
		{"sub.localhost with subdomains", map[string]any{"allow_subdomains": true}, "app.localhost", true},
		{"wildcard localhost with subdomains", map[string]any{"allow_subdomains": true}, "*.localdomain", true},
		{"e-mail at localhost", map[string]any{}, "root@localhost", true},
		// e-mail names
		{"e-mail bare domain", map[string]any{"allowed_domains": ex, "allow_bare_domains": true}, "user@example.com", true},
		{"e-mail needs bare for the base", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "user@example.com", false},
		{"e-mail subdomain", map[string]any{"allowed_domains": ex, "allow_subdomains": true}, "user@mail.example.com", true},
		{"e-mail two at signs", map[string]any{"allow_any_name": true}, "a@b@example.com", false},
		{"e-mail wildcard domain", map[string]any{"allow_any_name": true}, "user@*.example.com", false},
		{"e-mail domain must be a hostname", map[string]any{"allow_any_name": true}, "user@exa_mple.com", false},
		// identity templates
		{"template filled", map[string]any{"allowed_domains": "{{identity.entity.name}}.example.com", "allowed_domains_template": true, "allow_subdomains": true}, "www.alice.example.com", true},
		{"template for someone else", map[string]any{"allowed_domains": "{{identity.entity.name}}.example.com", "allowed_domains_template": true, "allow_subdomains": true}, "www.bob.example.com", false},
		{"template metadata", map[string]any{"allowed_domains": "{{identity.entity.metadata.team}}.example.com", "allowed_domains_template": true, "allow_bare_domains": true}, "payments.example.com", true},
		{"template unknown key never matches", map[string]any{"allowed_domains": "{{identity.entity.metadata.nope}}.example.com", "allowed_domains_template": true, "allow_subdomains": true}, "www.payments.example.com", false},
		{"template off: literal entry", map[string]any{"allowed_domains": "{{identity.entity.name}}.example.com", "allow_subdomains": true}, "www.alice.example.com", false},
	}
	alice := Identity{EntityID: "e-1", EntityName: "alice", EntityMetadata: map[string]string{"team": "payments"}}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			r := mustRole(t, tc.role)
			if got := r.NameAllowed(tc.name, alice); got != tc.ok {
				t.Fatalf("NameAllowed(%q) = %v, want %v (role %v)", tc.name, got, tc.ok, tc.role)
			}
		})
	}
}

func TestTemplateWithoutEntity(t *testing.T) {
	t.Parallel()
	r := mustRole(t, map[string]any{"allowed_domains": "{{identity.entity.name}}.example.com,static.example.com",
		"allowed_domains_template": true, "allow_subdomains": true})
	if r.NameAllowed("www.alice.example.com", Identity{}) {
		t.Error("a template with no entity must match nothing")
	}
	if !r.NameAllowed("www.static.example.com", Identity{}) {
		t.Error("non-template entries still match")
	}
}

func TestTokenDisplayName(t *testing.T) {
	t.Parallel()
	r := mustRole(t, map[string]any{"allow_subdomains": true})
	r.AllowTokenDisplayName = true // legacy roles only: no request sets it
	id := Identity{DisplayName: "svc.example.com"}
	for name, want := range map[string]bool{
		"svc.example.com": true, "a.svc.example.com": true, "*.svc.example.com": true,
		"other.example.com": false,
	} {
		if got := r.NameAllowed(name, id); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestCommonNameRules(t *testing.T) {
	t.Parallel()
	cases := []nameCase{
		{"hostname CN", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true}, "www.example.com", true},
		{"e-mail CN", map[string]any{"allowed_domains": "example.com", "allow_bare_domains": true}, "me@example.com", true},
		{"e-mail CN needs email validation", map[string]any{"allowed_domains": "example.com", "allow_bare_domains": true, "cn_validations": "hostname"}, "me@example.com", false},
		{"hostname CN needs hostname validation", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "cn_validations": "email"}, "www.example.com", false},
		{"disabled skips everything", map[string]any{"cn_validations": "disabled"}, "My Service", true},
		{"disabled skips the domain list", map[string]any{"allowed_domains": "example.com", "cn_validations": "disabled"}, "evil.org", true},
		{"enabled refuses a free-form CN", map[string]any{"allow_any_name": true}, "My Service", false},
		{"any name with hostname validation", map[string]any{"allow_any_name": true, "enforce_hostnames": false}, "My Service", true},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			r := mustRole(t, tc.role)
			if got := r.CommonNameAllowed(tc.name, Identity{}); got != tc.ok {
				t.Fatalf("CommonNameAllowed(%q) = %v, want %v", tc.name, got, tc.ok)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, subject string
		want             bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"a*c", "ac", true},
		{"a*a", "a", false},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "a-c-b", false},
		{"*.example.com", "x.y.example.com", true},
		{"*.example.com", "example.com", false},
		{"spiffe://cluster/ns/*/sa/*", "spiffe://cluster/ns/default/sa/web", true},
		{"**", "x", true},
	}
	for _, tc := range cases {
		if got := glob(tc.pattern, tc.subject); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pattern, tc.subject, got, tc.want)
		}
	}
}

func TestOtherSANsURIsSerialsUserIDs(t *testing.T) {
	t.Parallel()
	r := mustRole(t, map[string]any{
		"allowed_other_sans":     "1.3.6.1.4.1.311.20.2.3;UTF8:*@example.com,1.2.3.4;utf-8:fixed",
		"allowed_uri_sans":       "spiffe://example.org/*",
		"allowed_serial_numbers": "SN-*,exact",
		"allowed_user_ids":       "Alice,svc-*",
	})
	other := func(s string) (string, string) {
		o, err := ParseOtherSANs([]string{s})
		if err != nil {
			t.Fatal(err)
		}
		oid, val, err := r.otherSANsRefused(o)
		if err != nil {
			t.Fatal(err)
		}
		return oid, val
	}
	if oid, val := other("1.3.6.1.4.1.311.20.2.3;UTF8:me@example.com"); oid != "" || val != "" {
		t.Errorf("UPN allowed: refused %s %s", oid, val)
	}
	if oid, val := other("1.3.6.1.4.1.311.20.2.3;UTF8:me@evil.com"); oid == "" || val != "me@evil.com" {
		t.Errorf("UPN value: %q %q", oid, val)
	}
	if oid, val := other("1.2.9;UTF8:x"); oid != "1.2.9" || val != "" {
		t.Errorf("unknown OID: %q %q", oid, val)
	}
	star := mustRole(t, map[string]any{"allowed_other_sans": "*"})
	if oid, _, _ := star.otherSANsRefused([]OtherName{{"1.2.9", "x"}}); oid != "" {
		t.Error("* allows any other SAN")
	}
	none := mustRole(t, map[string]any{})
	if oid, _, _ := none.otherSANsRefused([]OtherName{{"1.2.9", "x"}}); oid == "" {
		t.Error("empty allowed_other_sans allows none")
	}
	for uri, want := range map[string]bool{"spiffe://example.org/web": true, "spiffe://evil.org/web": false} {
		if r.uriAllowed(uri, Identity{}) != want {
			t.Errorf("uri %s: want %v", uri, want)
		}
	}
	for sn, want := range map[string]bool{"SN-1": true, "exact": true, "EXACT": false, "other": false} {
		if r.serialNumberAllowed(sn) != want {
			t.Errorf("serial %s: want %v", sn, want)
		}
	}
	if none.serialNumberAllowed("x") || none.userIDAllowed("x") {
		t.Error("empty allow-lists allow nothing")
	}
	for uid, want := range map[string]bool{"alice": true, "ALICE": true, "svc-web": true, "SVC-web": false, "bob": false} {
		if r.userIDAllowed(uid) != want {
			t.Errorf("user id %s: want %v", uid, want)
		}
	}
}
