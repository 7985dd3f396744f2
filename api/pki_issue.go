package api

import (
	"context"
	"strings"

	"github.com/pkid-dev/pkid/ca"
	"github.com/pkid-dev/pkid/roles"
)

// Issuance routes (spec §3.1 issue, sign, certs, cert; §3.2 sign-verbatim)
// and their issuer/:ref/... forms. Serials in cert/ paths match Vault's
// [0-9A-Fa-f:-]+ (spec Appendix C), so cert/zz is a 404; the fixed
// cert/ca and cert/crl routes come earlier in the table.
func (b *pkiBackend) issueRoutes() []Route {
	role := "{role:" + NamePattern + "}"
	issuer := "issuer/{issuer_ref:" + NamePattern + "}/"
	serial := "cert/{serial:[0-9A-Fa-f:-]+}"
	write := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpUpdate: h} }
	read := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpRead: h} }
	return []Route{
		{Pattern: "issue/" + role, Operations: write(b.issue)},
		{Pattern: issuer + "issue/" + role, Operations: write(b.issue)},
		{Pattern: "sign/" + role, Operations: write(b.sign)},
		{Pattern: issuer + "sign/" + role, Operations: write(b.sign)},
		{Pattern: "sign-verbatim", Operations: write(b.signVerbatim)},
		{Pattern: "sign-verbatim/" + role, Operations: write(b.signVerbatim)},
		{Pattern: issuer + "sign-verbatim", Operations: write(b.signVerbatim)},
		{Pattern: issuer + "sign-verbatim/" + role, Operations: write(b.signVerbatim)},

		{Pattern: "certs", Operations: map[Operation]HandlerFunc{OpList: b.listCerts}},
		{Pattern: serial, Operations: read(b.readCert), Unauthenticated: true},
		{Pattern: serial + "/raw", Operations: read(b.readCertRaw(false)), Unauthenticated: true},
		{Pattern: serial + "/raw/pem", Operations: read(b.readCertRaw(true)), Unauthenticated: true},
	}
}

func (b *pkiBackend) issue(ctx context.Context, req *Request) (*Response, error) {
	in := defaultIssueWire()
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	rq := in.request()
	leaf, err := b.ca.Issue(ctx, req.Vars["role"], &rq, b.leafOptions(req))
	if err != nil {
		return nil, err
	}
	return b.leafResponse(req, leaf)
}

func (b *pkiBackend) sign(ctx context.Context, req *Request) (*Response, error) {
	in := defaultSignWire()
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	rq := in.request()
	leaf, err := b.ca.Sign(ctx, req.Vars["role"], &rq, b.leafOptions(req))
	if err != nil {
		return nil, err
	}
	return b.leafResponse(req, leaf)
}

func (b *pkiBackend) signVerbatim(ctx context.Context, req *Request) (*Response, error) {
	in := defaultVerbatimWire()
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	rq := in.request()
	leaf, err := b.ca.SignVerbatim(ctx, req.Vars["role"], &rq, b.leafOptions(req))
	if err != nil {
		return nil, err
	}
	return b.leafResponse(req, leaf)
}

func (b *pkiBackend) leafOptions(req *Request) ca.LeafOptions {
	opts := ca.LeafOptions{IssuerRef: req.Vars["issuer_ref"]}
	if req.Mount != nil {
		opts.TTLs = ca.MountTTLs{Default: req.Mount.DefaultTTL, Max: req.Mount.MaxTTL}
	}
	if req.Token != nil {
		opts.Identity = roles.Identity{DisplayName: req.Token.DisplayName, EntityID: req.Token.EntityID}
	}
	return opts
}

// leafResponse renders an issued certificate, with a lease when the role
// asks for one (generate_lease): never renewable, lasting until NotAfter,
// its ID the request path plus a random suffix as Vault makes them.
func (b *pkiBackend) leafResponse(req *Request, leaf *ca.Leaf) (*Response, error) {
	data, err := leafData(leaf)
	if err != nil {
		return nil, err
	}
	resp := &Response{Data: data, Warnings: leaf.Warnings}
	if leaf.LeaseTTL > 0 {
		prefix := ""
		if req.Mount != nil {
			prefix = req.Mount.Path
		}
		// The lease names the certificate it stands for, so sys/leases can
		// revoke it without a lease table (leases.go).
		resp.Lease = &Lease{ID: prefix + req.Path + "/" + strings.ReplaceAll(leaf.Serial, ":", "-"), Duration: leaf.LeaseTTL}
	}
	return resp, nil
}

func (b *pkiBackend) listCerts(_ context.Context, req *Request) (*Response, error) {
	var q listQuery
	if err := req.Decode(&q); err != nil {
		return nil, err
	}
	keys, err := b.ca.ListCerts(q.After, q.Limit)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": keys}}, nil
}

func (b *pkiBackend) readCert(_ context.Context, req *Request) (*Response, error) {
	c, err := b.ca.StoredCert(req.Vars["serial"])
	if err != nil || c == nil {
		return nil, err
	}
	return &Response{Data: storedCertData(c)}, nil
}

// readCertRaw answers cert/:serial/raw (DER) and /raw/pem; an unknown
// serial is an empty body, so 204 (spec §1.7).
func (b *pkiBackend) readCertRaw(asPEM bool) HandlerFunc {
	return func(_ context.Context, req *Request) (*Response, error) {
		c, err := b.ca.StoredCert(req.Vars["serial"])
		if err != nil {
			return nil, err
		}
		raw := &Raw{ContentType: "application/pkix-cert"}
		if c != nil {
			raw.Body = c.DER
			if asPEM {
				raw.ContentType = "application/pem-certificate-chain"
				raw.Body = []byte(ca.CertPEM(c.DER))
			}
		}
		return &Response{Raw: raw}, nil
	}
}
