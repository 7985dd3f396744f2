package api_test

import (
	"testing"

	"github.com/pkid-dev/pkid/pkidtest"
)

// A templated URL that can never become a URL used to be stored, and from
// then on every issue of the mount failed with a 500 (as in Vault). pkid
// refuses it at write time and the mount keeps issuing.
func TestTemplatedURLsCheckedAtWrite(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)
	mustWrite(t, c, h.IntMount+"/config/cluster", map[string]any{
		"path": "https://pkid.example/v1/pki_int", "aia_path": "http://pkid.example/v1/pki_int",
	})
	path := h.IntMount + "/config/urls"
	for _, tc := range []struct {
		field, value string
		ok           bool
	}{
		{"ocsp_servers", "a", false},
		{"issuing_certificates", "not a url", false},
		{"crl_distribution_points", ":{{cluster_path}}", false},
		{"delta_crl_distribution_points", "{{issuer_id}}", false},
		{"ocsp_servers", "{{cluster_path}}/ocsp", true},
		{"issuing_certificates", "{{cluster_aia_path}}/issuer/{{issuer_id}}/der", true},
		{"crl_distribution_points", "http://x.example/{{issuer_id}}/crl", true},
	} {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			defer mustWrite(t, c, path, map[string]any{"enable_templating": false, tc.field: []string{}})
			_, err := c.Logical().Write(path, map[string]any{"enable_templating": true, tc.field: []string{tc.value}})
			if tc.ok {
				if err != nil {
					t.Fatalf("write %s=%q: %v", tc.field, tc.value, err)
				}
			} else {
				wantStatus(t, err, 400, "error validating templated "+tc.field+"; invalid URI: "+tc.value)
			}
			if _, err := c.Logical().Write(h.IntMount+"/issue/"+h.Role, map[string]any{"common_name": "a.internal.example.com"}); err != nil {
				t.Fatalf("issue after %s=%q: %v", tc.field, tc.value, err)
			}
		})
	}
}

func TestIssuerTemplatedURLsCheckedAtWrite(t *testing.T) {
	t.Parallel()
	srv := pkidtest.Start(t)
	h := srv.BuildHierarchy(t)
	c := srv.Client(t)
	path := h.IntMount + "/issuer/default"
	_, err := c.Logical().Write(path, map[string]any{"enable_aia_url_templating": true, "ocsp_servers": []string{"a"}})
	wantStatus(t, err, 400, "error validating templated ocsp_servers; invalid URI: a")
	if _, err := c.Logical().Write(h.IntMount+"/issue/"+h.Role, map[string]any{"common_name": "a.internal.example.com"}); err != nil {
		t.Fatalf("issue after the refused write: %v", err)
	}
	mustWrite(t, c, path, map[string]any{"enable_aia_url_templating": true, "ocsp_servers": []string{"http://ocsp.example/{{issuer_id}}"}})
}
