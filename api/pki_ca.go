package api

import (
	"context"
	"crypto"
	"crypto/x509"
	"github.com/pkid-dev/pkid/records"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/ca"
)

// The CA hierarchy of a PKI mount (spec §3.1, §3.2): generation, signing and
// import of CA certificates, issuers and keys, their configuration, and the
// fetch endpoints of the default CA. Handlers decode, call pkid/ca, render.

const (
	issuerRef = "{issuer_ref:" + NamePattern + "}"
	keyRef    = "{key_ref:" + NamePattern + "}"
	exported  = "{exported:" + NamePattern + "}"
)

func (b *pkiBackend) caRoutes() []Route {
	up := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpUpdate: h} }
	read := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpRead: h} }
	return []Route{
		{Pattern: "root/generate/" + exported, Operations: up(b.generateRoot(false))},
		{Pattern: "issuers/generate/root/" + exported, Operations: up(b.generateRoot(false))},
		{Pattern: "root/rotate/" + exported, Operations: up(b.generateRoot(true))},
		{Pattern: "intermediate/generate/" + exported, Operations: up(b.generateIntermediate(false))},
		{Pattern: "issuers/generate/intermediate/" + exported, Operations: up(b.generateIntermediate(false))},
		{Pattern: "intermediate/cross-sign", Operations: up(b.generateIntermediate(true))},
		{Pattern: "root/sign-intermediate", Operations: up(b.signIntermediate)},
		{Pattern: "issuer/" + issuerRef + "/sign-intermediate", Operations: up(b.signIntermediate)},
		{Pattern: "root/sign-self-issued", Operations: up(b.signSelfIssued)},
		{Pattern: "issuer/" + issuerRef + "/sign-self-issued", Operations: up(b.signSelfIssued)},
		{Pattern: "intermediate/set-signed", Operations: up(b.setSigned)},
		{Pattern: "config/ca", Operations: up(b.importBundle)},
		{Pattern: "issuers/import/{kind:cert|bundle}", Operations: up(b.importBundle)},
		{Pattern: "root", Operations: map[Operation]HandlerFunc{OpDelete: b.deleteRoot}},
		{Pattern: "root/replace", Operations: up(b.writeIssuersConfig("next"))},
		{Pattern: "config/issuers", Operations: map[Operation]HandlerFunc{
			OpRead: b.readIssuersConfig, OpUpdate: b.writeIssuersConfig(""),
		}},
		{Pattern: "config/keys", Operations: map[Operation]HandlerFunc{OpRead: b.readKeysConfig, OpUpdate: b.writeKeysConfig}},
		{Pattern: "config/urls", Operations: map[Operation]HandlerFunc{OpRead: b.readURLs, OpUpdate: b.writeURLs}},
		{Pattern: "config/cluster", Operations: map[Operation]HandlerFunc{OpRead: b.readCluster, OpUpdate: b.writeCluster}},
		// LIST issuers needs no token through the special path "issuers/"
		// (the list form only: a GET of "issuers" is authenticated).
		{Pattern: "issuers", Operations: map[Operation]HandlerFunc{OpList: b.listIssuers}},
		{Pattern: "issuer/" + issuerRef, Operations: map[Operation]HandlerFunc{
			OpRead: b.readIssuer, OpUpdate: b.updateIssuer(true), OpPatch: b.updateIssuer(false), OpDelete: b.deleteIssuer,
		}},
		{Pattern: "issuer/" + issuerRef + "/{form:json|pem|der}", Operations: read(b.readIssuerCert), Unauthenticated: true},
		{Pattern: "issuer/" + issuerRef + "/revoke", Operations: up(b.revokeIssuer)},
		{Pattern: "keys", Operations: map[Operation]HandlerFunc{OpList: b.listKeys}},
		{Pattern: "key/" + keyRef, Operations: map[Operation]HandlerFunc{
			OpRead: b.readKey, OpUpdate: b.updateKey, OpDelete: b.deleteKey,
		}},
		{Pattern: "keys/generate/{exported:internal|exported|kms}", Operations: up(b.generateKey)},
		{Pattern: "keys/import", Operations: up(b.importKey)},
		{Pattern: "ca", Operations: read(b.fetchCA(false, false)), Unauthenticated: true},
		{Pattern: "ca/pem", Operations: read(b.fetchCA(true, false)), Unauthenticated: true},
		{Pattern: "ca_chain", Operations: read(b.fetchCA(true, true)), Unauthenticated: true},
		{Pattern: "cert/ca", Operations: read(b.fetchCAJSON(false)), Unauthenticated: true},
		{Pattern: "cert/ca_chain", Operations: read(b.fetchCAJSON(true)), Unauthenticated: true},
		{Pattern: "cert/ca/raw", Operations: read(b.fetchCA(false, false)), Unauthenticated: true},
		{Pattern: "cert/ca/raw/pem", Operations: read(b.fetchCA(true, false)), Unauthenticated: true},
	}
}

// mountTTLs are the effective TTLs of the mount serving req.
func mountTTLs(req *Request) ca.MountTTLs {
	if req.Mount == nil {
		return ca.MountTTLs{}
	}
	return ca.MountTTLs{Default: req.Mount.DefaultTTL, Max: req.Mount.MaxTTL}
}

func (b *pkiBackend) generateRoot(rotate bool) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		var in rootWire
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		rq := in.request()
		res, err := b.ca.GenerateRoot(ctx, req.Vars["exported"], rotate, &rq, mountTTLs(req))
		if err != nil {
			return nil, err
		}
		format, _ := ca.ParseFormat(in.Format)
		data := map[string]any{
			"expiration":    res.Cert.NotAfter.Unix(),
			"serial_number": records.FormatSerial(res.Cert.SerialNumber),
			"certificate":   ca.EncodeCert(format, res.Cert.Raw),
			"issuing_ca":    ca.EncodeCert(format, res.Cert.Raw),
			"issuer_id":     res.IssuerID,
			"issuer_name":   res.IssuerName,
			"key_id":        res.KeyID,
			"key_name":      res.KeyName,
		}
		if err := addPrivateKey(data, res.Key, format, in.PrivateKeyFormat, "certificate", ca.CertPEM(res.Cert.Raw)); err != nil {
			return nil, err
		}
		return &Response{Data: data, Warnings: res.Warnings}, nil
	}
}

// addPrivateKey sets private_key and private_key_type (spec §5.8) when the
// key was exported (key not nil). With format pem_bundle, the field holding
// the new certificate or CSR (pemText) becomes the key's native PEM
// followed by it.
func addPrivateKey(data map[string]any, key crypto.Signer, format, privateKeyFormat, field, pemText string) error {
	if key == nil {
		return nil
	}
	enc, err := ca.EncodePrivateKey(key, format, privateKeyFormat)
	if err != nil {
		return err
	}
	data["private_key"] = enc
	data["private_key_type"] = ca.KeyTypeOf(key.Public())
	if format == ca.FormatPEMBundle {
		native, err := ca.PrivateKeyPEM(key)
		if err != nil {
			return err
		}
		data[field] = ca.PEMBundle(native, pemText)
	}
	return nil
}

func (b *pkiBackend) generateIntermediate(crossSign bool) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		var in intermediateWire
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		rq := in.request()
		mode := req.Vars["exported"]
		if crossSign {
			mode = ca.ModeExisting
		}
		res, err := b.ca.GenerateIntermediate(ctx, mode, &rq)
		if err != nil {
			return nil, err
		}
		format, _ := ca.ParseFormat(in.Format)
		data := map[string]any{"csr": ca.EncodeCSR(format, res.CSR.Raw), "key_id": res.KeyID}
		if err := addPrivateKey(data, res.Key, format, in.PrivateKeyFormat, "csr", ca.CSRPEM(res.CSR.Raw)); err != nil {
			return nil, err
		}
		return &Response{Data: data, Warnings: res.Warnings}, nil
	}
}

// refFrom is the issuer reference of a signing request: the URL's on the
// issuer/:ref/... forms, else the body's (default "default").
func refFrom(req *Request, body string) string {
	if ref, ok := req.Vars["issuer_ref"]; ok {
		return ref
	}
	return body
}

func (b *pkiBackend) signIntermediate(ctx context.Context, req *Request) (*Response, error) {
	in := defaultSignIntermediateWire()
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	rq := in.request()
	res, err := b.ca.SignIntermediate(ctx, refFrom(req, rq.IssuerRef), &rq, mountTTLs(req))
	if err != nil {
		return nil, err
	}
	format, _ := ca.ParseFormat(in.Format)
	chain := append([]*x509.Certificate{res.Cert}, res.Chain...)
	data := map[string]any{
		"expiration":    res.Cert.NotAfter.Unix(),
		"serial_number": records.FormatSerial(res.Cert.SerialNumber),
		"certificate":   ca.EncodeCert(format, res.Cert.Raw),
		"issuing_ca":    ca.EncodeCert(format, res.Signer.Cert.Raw),
		"ca_chain":      ca.EncodeCerts(format, chain),
	}
	if format == ca.FormatPEMBundle {
		data["certificate"] = ca.PEMBundle(ca.EncodeCerts(ca.FormatPEM, chain)...)
	}
	return &Response{Data: data, Warnings: res.Warnings}, nil
}

func (b *pkiBackend) signSelfIssued(_ context.Context, req *Request) (*Response, error) {
	in := defaultSelfIssuedWire()
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	rq := in.request()
	res, err := b.ca.SignSelfIssued(refFrom(req, rq.IssuerRef), &rq)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{
		"certificate": ca.CertPEM(res.Cert.Raw),
		"issuing_ca":  res.Signer.CertPEM,
	}}, nil
}

func (b *pkiBackend) setSigned(ctx context.Context, req *Request) (*Response, error) {
	var in struct {
		Certificate string `json:"certificate"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	res, err := b.ca.Import(ctx, "", in.Certificate, false)
	if err != nil {
		return nil, err
	}
	return importResponse(res), nil
}

// importBundle serves config/ca and issuers/import/{cert,bundle}.
func (b *pkiBackend) importBundle(ctx context.Context, req *Request) (*Response, error) {
	var in struct {
		PEMBundle string `json:"pem_bundle"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	res, err := b.ca.Import(ctx, in.PEMBundle, "", req.Vars["kind"] != "cert")
	if err != nil {
		return nil, err
	}
	return importResponse(res), nil
}

func importResponse(res *ca.ImportResult) *Response {
	return &Response{Data: map[string]any{
		"mapping":          res.Mapping,
		"imported_keys":    res.ImportedKeys,
		"imported_issuers": res.ImportedIssuers,
		"existing_keys":    res.ExistingKeys,
		"existing_issuers": res.ExistingIssuers,
	}, Warnings: res.Warnings}
}

func (b *pkiBackend) deleteRoot(context.Context, *Request) (*Response, error) {
	warnings, err := b.ca.DeleteAll()
	if err != nil {
		return nil, err
	}
	return &Response{Warnings: warnings}, nil
}

func issuersConfigData(c ca.IssuersConfig) map[string]any {
	return map[string]any{"default": c.Default, "default_follows_latest_issuer": c.DefaultFollowsLatestIssuer}
}

func (b *pkiBackend) readIssuersConfig(context.Context, *Request) (*Response, error) {
	c, err := b.ca.IssuersConfig()
	if err != nil {
		return nil, err
	}
	return &Response{Data: issuersConfigData(c)}, nil
}

// writeIssuersConfig serves config/issuers and, with defaultRef "next",
// root/replace.
func (b *pkiBackend) writeIssuersConfig(defaultRef string) HandlerFunc {
	return func(_ context.Context, req *Request) (*Response, error) {
		in := struct {
			Default       string `json:"default"`
			FollowsLatest *bool  `json:"default_follows_latest_issuer"`
		}{Default: defaultRef}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		c, warnings, err := b.ca.SetIssuersConfig(in.Default, in.FollowsLatest)
		if err != nil {
			return nil, err
		}
		return &Response{Data: issuersConfigData(c), Warnings: warnings}, nil
	}
}

func (b *pkiBackend) readKeysConfig(context.Context, *Request) (*Response, error) {
	id, err := b.ca.DefaultKey()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"default": id}}, nil
}

func (b *pkiBackend) writeKeysConfig(_ context.Context, req *Request) (*Response, error) {
	var in struct {
		Default string `json:"default"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	id, err := b.ca.SetDefaultKey(in.Default)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"default": id}}, nil
}

func urlsData(c ca.URLConfig) map[string]any {
	return map[string]any{
		"issuing_certificates":          c.IssuingCertificates,
		"crl_distribution_points":       c.CRLDistributionPoints,
		"delta_crl_distribution_points": c.DeltaCRLDistributionPoints,
		"ocsp_servers":                  c.OCSPServers,
		"enable_templating":             c.EnableTemplating,
	}
}

func (b *pkiBackend) readURLs(context.Context, *Request) (*Response, error) {
	c, err := b.ca.URLs()
	if err != nil {
		return nil, err
	}
	return &Response{Data: urlsData(c)}, nil
}

func (b *pkiBackend) writeURLs(_ context.Context, req *Request) (*Response, error) {
	var in urlConfigWire
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	c, warnings, err := b.ca.SetURLs(in.update())
	if err != nil {
		return nil, err
	}
	return &Response{Data: urlsData(c), Warnings: warnings}, nil
}

func (b *pkiBackend) readCluster(context.Context, *Request) (*Response, error) {
	c, err := b.ca.Cluster()
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"path": c.Path, "aia_path": c.AIAPath}}, nil
}

func (b *pkiBackend) writeCluster(_ context.Context, req *Request) (*Response, error) {
	var in clusterWire
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	c, err := b.ca.SetCluster(in.update())
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"path": c.Path, "aia_path": c.AIAPath}}, nil
}

// listWithInfo answers a LIST with key_info (issuers, keys): the IDs after
// "after", at most "limit" of them, each with its entry.
func listWithInfo[T any](req *Request, list func() ([]T, error), entry func(T) (string, map[string]any)) (*Response, error) {
	var page listQuery
	if err := req.Decode(&page); err != nil {
		return nil, err
	}
	items, err := list()
	if err != nil {
		return nil, err
	}
	keys := []string{}
	info := map[string]any{}
	for _, it := range items {
		id, data := entry(it)
		if !page.take(id, len(keys)) {
			continue
		}
		keys = append(keys, id)
		info[id] = data
	}
	return &Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}

func (b *pkiBackend) listIssuers(_ context.Context, req *Request) (*Response, error) {
	return listWithInfo(req, b.ca.ListIssuers, func(is ca.IssuerSummary) (string, map[string]any) {
		return is.ID, map[string]any{
			"issuer_name": is.Name, "is_default": is.IsDefault,
			"serial_number": is.SerialNumber, "key_id": is.KeyID,
		}
	})
}

// issuerData renders an issuer as issuer/:ref answers it.
func issuerData(is *ca.IssuerInfo) map[string]any {
	var manual []string
	if len(is.ManualChain) > 0 {
		manual = is.ManualChain
	}
	chain := is.CAChain
	if chain == nil {
		chain = []string{}
	}
	data := map[string]any{
		"issuer_id":                      is.ID,
		"issuer_name":                    is.Name,
		"key_id":                         is.KeyID,
		"certificate":                    is.Certificate,
		"manual_chain":                   manual,
		"ca_chain":                       chain,
		"leaf_not_after_behavior":        is.LeafNotAfterBehavior,
		"usage":                          is.Usage.String(),
		"revocation_signature_algorithm": is.RevocationSignatureAlgorithm,
		"revoked":                        is.Revoked,
		"issuing_certificates":           []string{},
		"crl_distribution_points":        []string{},
		"delta_crl_distribution_points":  []string{},
		"ocsp_servers":                   []string{},
	}
	if is.Revoked {
		data["revocation_time"] = is.RevocationTime.Unix()
		data["revocation_time_rfc3339"] = is.RevocationTime.UTC().Format(time.RFC3339Nano)
	}
	if is.AIA != nil {
		data["issuing_certificates"] = is.AIA.IssuingCertificates
		data["crl_distribution_points"] = is.AIA.CRLDistributionPoints
		data["delta_crl_distribution_points"] = is.AIA.DeltaCRLDistributionPoints
		data["ocsp_servers"] = is.AIA.OCSPServers
		data["enable_aia_url_templating"] = is.AIA.EnableTemplating
	}
	return data
}

func issuerResponse(is *ca.IssuerInfo, warnings []string) *Response {
	if strings.HasSuffix(is.RevocationSignatureAlgorithm, "RSAPSS") {
		warnings = append(warnings, "Issuer uses a PSS Revocation Signature Algorithm. This algorithm will be downgraded to PKCS#1v1.5 signature scheme on OCSP responses, due to limitations in the OCSP library.")
	}
	return &Response{Data: issuerData(is), Warnings: warnings}
}

func (b *pkiBackend) readIssuer(_ context.Context, req *Request) (*Response, error) {
	is, err := b.ca.Issuer(req.Vars["issuer_ref"])
	if err != nil {
		return nil, err
	}
	return issuerResponse(is, nil), nil
}

// updateIssuer serves POST (replace: absent fields take their defaults)
// and PATCH (merge) on issuer/:ref.
func (b *pkiBackend) updateIssuer(replace bool) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		var in issuerUpdateWire
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		is, warnings, err := b.ca.UpdateIssuer(ctx, req.Vars["issuer_ref"], in.update(), replace)
		if err != nil {
			return nil, err
		}
		return issuerResponse(is, warnings), nil
	}
}

func (b *pkiBackend) deleteIssuer(ctx context.Context, req *Request) (*Response, error) {
	_, warnings, err := b.ca.RemoveIssuer(ctx, req.Vars["issuer_ref"])
	if err != nil {
		return nil, err
	}
	// Vault answers 200 with "data": null, deleted or not.
	return &Response{Warnings: warnings}, nil
}

func (b *pkiBackend) readIssuerCert(_ context.Context, req *Request) (*Response, error) {
	is, err := b.ca.Issuer(req.Vars["issuer_ref"])
	if err != nil {
		return nil, err
	}
	switch req.Vars["form"] {
	case "pem":
		return &Response{Raw: &Raw{ContentType: "application/pem-certificate-chain", Body: []byte(is.Certificate)}}, nil
	case "der":
		return &Response{Raw: &Raw{ContentType: "application/pkix-cert", Body: is.Cert.Raw}}, nil
	}
	return &Response{Data: map[string]any{
		"certificate": is.Certificate, "ca_chain": is.CAChain,
		"issuer_id": is.ID, "issuer_name": is.Name,
	}}, nil
}

func (b *pkiBackend) revokeIssuer(ctx context.Context, req *Request) (*Response, error) {
	is, warnings, err := b.ca.RevokeIssuer(ctx, req.Vars["issuer_ref"])
	if err != nil {
		return nil, err
	}
	return issuerResponse(is, warnings), nil
}

func (b *pkiBackend) listKeys(_ context.Context, req *Request) (*Response, error) {
	return listWithInfo(req, b.ca.ListKeys, func(k ca.KeyInfo) (string, map[string]any) {
		return k.ID, map[string]any{"key_name": k.Name, "is_default": k.IsDefault}
	})
}

func (b *pkiBackend) readKey(_ context.Context, req *Request) (*Response, error) {
	k, err := b.ca.Key(req.Vars["key_ref"])
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{
		"key_id": k.ID, "key_name": k.Name, "key_type": k.Type, "subject_key_id": k.SubjectKeyID,
	}}, nil
}

func (b *pkiBackend) updateKey(_ context.Context, req *Request) (*Response, error) {
	var in struct {
		KeyName string `json:"key_name"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	k, warnings, err := b.ca.RenameKey(req.Vars["key_ref"], in.KeyName)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"key_id": k.ID, "key_name": k.Name, "key_type": k.Type}, Warnings: warnings}, nil
}

func (b *pkiBackend) deleteKey(_ context.Context, req *Request) (*Response, error) {
	_, warnings, err := b.ca.DeleteKey(req.Vars["key_ref"])
	if err != nil || len(warnings) == 0 {
		return nil, err // 204, as Vault answers
	}
	return &Response{Warnings: warnings}, nil
}

func (b *pkiBackend) generateKey(_ context.Context, req *Request) (*Response, error) {
	var in struct {
		KeyName string `json:"key_name"`
		KeyType string `json:"key_type"`
		KeyBits int    `json:"key_bits"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if _, err := ca.ParseMode(req.Vars["exported"]); err != nil {
		return nil, err
	}
	k, key, err := b.ca.NewKey(in.KeyName, in.KeyType, in.KeyBits)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"key_id": k.ID, "key_name": k.Name, "key_type": k.Type}
	if req.Vars["exported"] == ca.ModeExported {
		pem, err := ca.PrivateKeyPEM(key)
		if err != nil {
			return nil, err
		}
		data["private_key"] = pem
	}
	return &Response{Data: data}, nil
}

func (b *pkiBackend) importKey(_ context.Context, req *Request) (*Response, error) {
	var in struct {
		PEMBundle string `json:"pem_bundle"`
		KeyName   string `json:"key_name"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	k, warnings, err := b.ca.ImportKey(in.PEMBundle, in.KeyName)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"key_id": k.ID, "key_name": k.Name, "key_type": k.Type}, Warnings: warnings}, nil
}

// fetchCA serves the raw default-CA paths (spec §1.7): the certificate as
// DER or PEM, or the PEM chain; 204 when there is no usable default.
func (b *pkiBackend) fetchCA(asPEM, chain bool) HandlerFunc {
	return func(context.Context, *Request) (*Response, error) {
		certs, err := b.ca.DefaultCA()
		if err != nil {
			b.log.Debug("ca fetch: no default issuer", "error", err)
			return &Response{Raw: &Raw{}}, nil
		}
		switch {
		case chain:
			// Vault sends the PEM chain with the DER content type (sic).
			return &Response{Raw: &Raw{ContentType: "application/pkix-cert", Body: []byte(pemChain(certs))}}, nil
		case asPEM:
			return &Response{Raw: &Raw{ContentType: "application/pem-certificate-chain", Body: []byte(ca.CertPEM(certs[0].Raw))}}, nil
		}
		return &Response{Raw: &Raw{ContentType: "application/pkix-cert", Body: certs[0].Raw}}, nil
	}
}

// fetchCAJSON serves cert/ca and cert/ca_chain.
func (b *pkiBackend) fetchCAJSON(chain bool) HandlerFunc {
	return func(context.Context, *Request) (*Response, error) {
		certs, err := b.ca.DefaultCA()
		if err != nil {
			return nil, err
		}
		data := map[string]any{
			"certificate":             ca.CertPEM(certs[0].Raw),
			"revocation_time":         0,
			"revocation_time_rfc3339": "",
		}
		if chain {
			pems := pemChain(certs)
			data["certificate"], data["ca_chain"] = pems, pems
		}
		return &Response{Data: data}, nil
	}
}

// pemChain joins a chain's PEMs with newlines, no trailing newline.
func pemChain(certs []*x509.Certificate) string {
	return ca.PEMBundle(ca.EncodeCerts(ca.FormatPEM, certs)...)
}
