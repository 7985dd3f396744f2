package api

import (
	"reflect"
	"testing"

	"github.com/pkid-dev/pkid/ca"
)

// The helpers are in pki_issue_request_test.go.

const (
	caNameKeys     = "common_name alt_names ip_sans uri_sans other_sans exclude_cn_from_sans"
	caSubjectKeys  = "ou organization country locality province street_address postal_code serial_number"
	caValidityKeys = "ttl not_after not_before_duration"
	caKeyKeys      = "key_type key_bits signature_bits key_name key_ref"
	caExtKeys      = "max_path_length permitted_dns_domains excluded_dns_domains permitted_ip_ranges " +
		"excluded_ip_ranges permitted_email_addresses excluded_email_addresses permitted_uri_domains " +
		"excluded_uri_domains key_usage ext_key_usage ext_key_usage_oids"
	caOutputKeys = "format private_key_format"
)

func TestCAWireKeys(t *testing.T) {
	reqWireCheckKeys(t, rootWire{}, caNameKeys+" "+caSubjectKeys+" "+caValidityKeys+" "+caKeyKeys+" "+
		caExtKeys+" "+caOutputKeys+" use_pss issuer_name")
	reqWireCheckKeys(t, intermediateWire{}, caNameKeys+" "+caSubjectKeys+" "+caValidityKeys+" "+caKeyKeys+" "+
		caOutputKeys+" add_basic_constraints key_usage issuer_name")
	reqWireCheckKeys(t, signIntermediateWire{}, "csr issuer_ref "+caNameKeys+" "+caSubjectKeys+" "+
		caValidityKeys+" "+caExtKeys+" "+caOutputKeys+" use_csr_values signature_bits use_pss skid issuer_name")
	reqWireCheckKeys(t, selfIssuedWire{}, "certificate issuer_ref require_matching_certificate_algorithms")
	reqWireCheckKeys(t, issuerUpdateWire{}, "issuer_name leaf_not_after_behavior usage "+
		"revocation_signature_algorithm manual_chain issuing_certificates crl_distribution_points "+
		"delta_crl_distribution_points ocsp_servers enable_aia_url_templating")
	reqWireCheckKeys(t, urlConfigWire{}, "issuing_certificates crl_distribution_points "+
		"delta_crl_distribution_points ocsp_servers enable_templating")
	reqWireCheckKeys(t, clusterWire{}, "path aia_path")
}

func TestCAWireConversions(t *testing.T) {
	reqWireCheckConversion(t, rootWire.request)
	reqWireCheckConversion(t, intermediateWire.request)
	reqWireCheckConversion(t, signIntermediateWire.request)
	reqWireCheckConversion(t, selfIssuedWire.request)
	reqWireCheckConversion(t, issuerUpdateWire.update)
	reqWireCheckConversion(t, urlConfigWire.update)
	reqWireCheckConversion(t, clusterWire.update)
}

// Only the signing requests have a default (the default issuer); every
// other CA body starts from zero values, as the handlers did before.
func TestCAWireDefaults(t *testing.T) {
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s defaults:\n got %+v\nwant %+v", name, got, want)
		}
	}
	var root rootWire
	reqWireDecodeEmpty(t, &root)
	check("root", root.request(), ca.RootRequest{})
	var inter intermediateWire
	reqWireDecodeEmpty(t, &inter)
	check("intermediate", inter.request(), ca.IntermediateRequest{})
	signInter := defaultSignIntermediateWire()
	reqWireDecodeEmpty(t, &signInter)
	check("sign-intermediate", signInter.request(), ca.SignIntermediateRequest{IssuerRef: ca.DefaultRef})
	self := defaultSelfIssuedWire()
	reqWireDecodeEmpty(t, &self)
	check("sign-self-issued", self.request(), ca.SelfIssuedRequest{IssuerRef: ca.DefaultRef})
	var issuer issuerUpdateWire
	reqWireDecodeEmpty(t, &issuer)
	check("issuer", issuer.update(), ca.IssuerUpdate{})
	var urls urlConfigWire
	reqWireDecodeEmpty(t, &urls)
	check("config/urls", urls.update(), ca.URLConfigUpdate{})
	var cluster clusterWire
	reqWireDecodeEmpty(t, &cluster)
	check("config/cluster", cluster.update(), ca.ClusterUpdate{})
}
