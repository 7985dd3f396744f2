package api

import (
	"context"
	"encoding/pem"
	"net/http"
	"strings"

	"github.com/pkid-dev/pkid/crl"
)

// Revocation, CRL, OCSP and tidy routes (spec §3.1–3.3). CRL and OCSP
// reads need no token (spec §1.8); their raw bodies answer 204 when there
// is nothing to serve (spec §1.7). cert/crl/raw and cert/delta-crl/raw are
// not routes: Vault matches cert/<serial>/raw only for hex serials, so they
// are 404s (spec Appendix C).
func (b *pkiBackend) crlRoutes() []Route {
	read := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpRead: h} }
	write := func(h HandlerFunc) map[Operation]HandlerFunc { return map[Operation]HandlerFunc{OpUpdate: h} }
	issuer := "issuer/{issuer_ref:" + NamePattern + "}/crl"
	return []Route{
		{Pattern: "revoke", Operations: write(b.revoke(false))},
		{Pattern: "revoke-with-key", Operations: write(b.revoke(true))},
		{Pattern: "certs/revoked", Operations: map[Operation]HandlerFunc{OpList: b.listRevoked}},

		{Pattern: "crl", Operations: read(b.rawCRL(false, false)), Unauthenticated: true},
		{Pattern: "crl/pem", Operations: read(b.rawCRL(false, true)), Unauthenticated: true},
		{Pattern: "crl/delta", Operations: read(b.rawCRL(true, false)), Unauthenticated: true},
		{Pattern: "crl/delta/pem", Operations: read(b.rawCRL(true, true)), Unauthenticated: true},
		{Pattern: "cert/crl", Operations: read(b.certCRL(false)), Unauthenticated: true},
		{Pattern: "cert/delta-crl", Operations: read(b.certCRL(true)), Unauthenticated: true},
		{Pattern: "crl/rotate", Operations: read(b.rotateCRL)},
		{Pattern: "crl/rotate-delta", Operations: read(b.rotateDeltaCRL)},
		{Pattern: "config/crl", Operations: map[Operation]HandlerFunc{OpRead: b.readCRLConfig, OpUpdate: b.writeCRLConfig}},

		{Pattern: issuer, Operations: read(b.issuerCRL(false, "")), Unauthenticated: true},
		{Pattern: issuer + "/der", Operations: read(b.issuerCRL(false, "der")), Unauthenticated: true},
		{Pattern: issuer + "/pem", Operations: read(b.issuerCRL(false, "pem")), Unauthenticated: true},
		{Pattern: issuer + "/delta", Operations: read(b.issuerCRL(true, "")), Unauthenticated: true},
		{Pattern: issuer + "/delta/der", Operations: read(b.issuerCRL(true, "der")), Unauthenticated: true},
		{Pattern: issuer + "/delta/pem", Operations: read(b.issuerCRL(true, "pem")), Unauthenticated: true},

		{Pattern: "ocsp", Operations: write(b.ocspPost), Unauthenticated: true},
		{Pattern: "ocsp/{req:.*}", Operations: read(b.ocspGet), Unauthenticated: true},

		{Pattern: "tidy", Operations: write(b.tidy)},
		{Pattern: "tidy-status", Operations: read(b.tidyStatus)},
		{Pattern: "tidy-cancel", Operations: write(b.tidyCancel)},
		{Pattern: "config/auto-tidy", Operations: map[Operation]HandlerFunc{OpRead: b.readAutoTidy, OpUpdate: b.writeAutoTidy}},
	}
}

// Content types of raw CRL and OCSP bodies, as Vault sends them.
const (
	contentTypeCRL     = "application/pkix-crl"
	contentTypeCRLPEM  = "application/x-pem-file"
	contentTypeOCSPRes = "application/ocsp-response"
)

func (b *pkiBackend) revoke(withKey bool) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		var w revokeWire
		if err := req.Decode(&w); err != nil {
			return nil, err
		}
		res, err := b.crl.Revoke(ctx, w.request(withKey))
		if err != nil {
			return nil, err
		}
		return &Response{Data: revokeData(res), Warnings: res.Warnings}, nil
	}
}

func (b *pkiBackend) listRevoked(ctx context.Context, req *Request) (*Response, error) {
	var q listQuery
	if err := req.Decode(&q); err != nil {
		return nil, err
	}
	keys, err := b.crl.ListRevoked(ctx, q.After, q.Limit)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	return &Response{Data: map[string]any{"keys": keys}}, nil
}

// crlPEM is a CRL as PEM; the legacy paths trim the final newline, the
// issuer paths keep it (path_fetch.go vs path_fetch_issuers.go).
func crlPEM(der []byte, trailingNewline bool) string {
	if len(der) == 0 {
		return ""
	}
	s := string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	if !trailingNewline {
		s = strings.TrimSpace(s)
	}
	return s
}

func (b *pkiBackend) rawCRL(delta, asPEM bool) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		der, err := b.crl.FetchCRL(ctx, "", delta)
		if err != nil {
			return nil, err
		}
		if asPEM {
			return &Response{Raw: &Raw{ContentType: contentTypeCRLPEM, Body: []byte(crlPEM(der, false))}}, nil
		}
		return &Response{Raw: &Raw{ContentType: contentTypeCRL, Body: der}}, nil
	}
}

// certCRL is cert/crl and cert/delta-crl: the CRL as PEM in the
// "certificate" field, beside zero revocation fields (a historical misnomer
// Vault keeps). Unlike the raw paths, Vault's JSON path reports why there is
// no CRL: no default issuer, or a default issuer without one, are 500s
// (path_fetch.go, resolveIssuerCRLPath); a missing CRL body is a 404.
func (b *pkiBackend) certCRL(delta bool) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		der, err := b.crl.FetchIssuerCRL(ctx, "default", delta)
		if err != nil || der == nil {
			return nil, err
		}
		return &Response{Data: map[string]any{
			"certificate":             crlPEM(der, false),
			"revocation_time":         0,
			"revocation_time_rfc3339": "",
		}}, nil
	}
}

func (b *pkiBackend) issuerCRL(delta bool, format string) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		der, err := b.crl.FetchIssuerCRL(ctx, req.Vars["issuer_ref"], delta)
		if err != nil {
			return nil, err
		}
		switch format {
		case "der":
			return &Response{Raw: &Raw{ContentType: contentTypeCRL, Body: der}}, nil
		case "pem":
			return &Response{Raw: &Raw{ContentType: contentTypeCRLPEM, Body: []byte(crlPEM(der, true))}}, nil
		}
		return &Response{Data: map[string]any{"crl": crlPEM(der, true)}}, nil
	}
}

func (b *pkiBackend) rotateCRL(ctx context.Context, req *Request) (*Response, error) {
	ws, err := b.crl.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"success": true}, Warnings: ws}, nil
}

func (b *pkiBackend) rotateDeltaCRL(ctx context.Context, req *Request) (*Response, error) {
	ws, err := b.crl.RebuildDelta(ctx)
	if err != nil {
		return nil, err
	}
	return &Response{Data: map[string]any{"success": true}, Warnings: ws}, nil
}

func (b *pkiBackend) readCRLConfig(ctx context.Context, req *Request) (*Response, error) {
	return &Response{Data: crlConfigData(b.crl.CRLConfig())}, nil
}

func (b *pkiBackend) writeCRLConfig(ctx context.Context, req *Request) (*Response, error) {
	var w crlConfigPatchWire
	if err := req.Decode(&w); err != nil {
		return nil, err
	}
	cfg, ws, err := b.crl.SetCRLConfig(ctx, w.patch())
	if err != nil {
		return nil, err
	}
	return &Response{Data: crlConfigData(cfg), Warnings: ws}, nil
}

// ocspStatus is the HTTP status Vault sends with each kind of OCSP answer
// (path_ocsp.go); the body is an OCSP response in every case.
var ocspStatus = map[crl.OCSPOutcome]int{
	crl.OCSPAnswered:     http.StatusOK,
	crl.OCSPUnauthorized: http.StatusUnauthorized,
	crl.OCSPMalformed:    http.StatusBadRequest,
	crl.OCSPInternal:     http.StatusInternalServerError,
}

func ocspResponse(a crl.OCSPAnswer) *Response {
	return &Response{Raw: &Raw{Status: ocspStatus[a.Outcome], ContentType: contentTypeOCSPRes, Body: a.Body}}
}

func (b *pkiBackend) ocspGet(ctx context.Context, req *Request) (*Response, error) {
	return ocspResponse(b.crl.OCSPBase64(ctx, req.Vars["req"])), nil
}

func (b *pkiBackend) ocspPost(ctx context.Context, req *Request) (*Response, error) {
	return ocspResponse(b.crl.OCSP(ctx, req.Body)), nil
}

// tidy starts a tidy run: 202 with an empty request_id and only warnings,
// as Vault answers; 200 with a warning when one is already running.
func (b *pkiBackend) tidy(ctx context.Context, req *Request) (*Response, error) {
	w := newTidyWire()
	if err := req.Decode(&w); err != nil {
		return nil, err
	}
	started, ws, err := b.crl.StartTidy(w.request())
	if err != nil {
		return nil, err
	}
	if !started {
		return &Response{Warnings: ws}, nil
	}
	return &Response{Warnings: ws, Status: http.StatusAccepted, NoRequestID: true}, nil
}

func (b *pkiBackend) tidyStatus(ctx context.Context, req *Request) (*Response, error) {
	s, err := b.crl.TidyStatus(ctx)
	if err != nil {
		return nil, err
	}
	data := tidyStatusData(s)
	if req.Mount != nil {
		data["internal_backend_uuid"] = req.Mount.UUID
	}
	return &Response{Data: data}, nil
}

func (b *pkiBackend) tidyCancel(ctx context.Context, req *Request) (*Response, error) {
	if !b.crl.CancelTidy() {
		return &Response{Warnings: []string{"Tidy operation cannot be cancelled as none is currently running."}}, nil
	}
	return b.tidyStatus(ctx, req)
}

func (b *pkiBackend) readAutoTidy(ctx context.Context, req *Request) (*Response, error) {
	return &Response{Data: autoTidyData(b.crl.AutoTidyConfig())}, nil
}

func (b *pkiBackend) writeAutoTidy(ctx context.Context, req *Request) (*Response, error) {
	var w autoTidyPatchWire
	if err := req.Decode(&w); err != nil {
		return nil, err
	}
	cfg, err := b.crl.SetAutoTidyConfig(ctx, w.patch())
	if err != nil {
		return nil, err
	}
	return &Response{Data: autoTidyData(cfg)}, nil
}
