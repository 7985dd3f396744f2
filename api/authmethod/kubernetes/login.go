package kubernetes

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/errs"
)

// allowedAlgs are the signing algorithms of Kubernetes service account
// tokens that the plugin accepts.
var allowedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512,
}

// leeway is the clock skew allowed on exp/nbf (hashicorp/cap's default).
const leeway = 150 * time.Second

// LoginRequest is the body of POST login.
type LoginRequest struct {
	Role string `json:"role"`
	JWT  string `json:"jwt"`
}

// serviceAccount is what the JWT claims about its subject. Legacy secret
// tokens carry flat claims; projected tokens nest them under kubernetes.io.
type serviceAccount struct {
	Name       string `json:"kubernetes.io/serviceaccount/service-account.name"`
	UID        string `json:"kubernetes.io/serviceaccount/service-account.uid"`
	SecretName string `json:"kubernetes.io/serviceaccount/secret.name"`
	Namespace  string `json:"kubernetes.io/serviceaccount/namespace"`
	Kubernetes *struct {
		Namespace      string `json:"namespace"`
		ServiceAccount *struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

func (s *serviceAccount) name() string {
	if s.Kubernetes != nil && s.Kubernetes.ServiceAccount != nil {
		return s.Kubernetes.ServiceAccount.Name
	}
	return s.Name
}

func (s *serviceAccount) uid() string {
	if s.Kubernetes != nil && s.Kubernetes.ServiceAccount != nil {
		return s.Kubernetes.ServiceAccount.UID
	}
	return s.UID
}

func (s *serviceAccount) namespace() string {
	if s.Kubernetes != nil {
		return s.Kubernetes.Namespace
	}
	return s.Namespace
}

func denied() error { return errs.New(errs.Denied, "permission denied") }

// Login validates a service account JWT for a role and returns the token to
// mint. The JWT's claims are checked first (names, namespaces, audience,
// expiry, and its signature when pem_keys are configured), then the cluster
// confirms it through TokenReview.
func (b *Backend) Login(ctx context.Context, req LoginRequest) (*authmethod.Auth, error) {
	if req.Role == "" {
		return nil, errs.Invalidf("missing role")
	}
	if req.JWT == "" {
		return nil, errs.Invalidf("missing jwt")
	}
	r, err := authmethod.ViewRole[role](b.space, req.Role)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errs.Invalidf("invalid role name %q", req.Role)
	}
	c, err := b.loadConfig()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errs.New(errs.InvalidVault500, "could not load backend configuration")
	}
	sa, aud, err := b.validateJWT(req.JWT, r, c)
	if err != nil {
		return nil, err
	}
	if sa.uid() == "" {
		return nil, errs.New(errs.InvalidVault500, "could not parse UID from claims")
	}
	if err := b.review(ctx, c, req.JWT, sa, r.Audience, aud); err != nil {
		// Vault logs the reason and answers only "permission denied".
		return nil, errs.Wrap(errs.Denied, err, "permission denied")
	}
	return loginAuth(r, sa), nil
}

func loginAuth(r *role, sa *serviceAccount) *authmethod.Auth {
	auth := r.TokenParams.Auth()
	auth.Metadata = map[string]string{
		"service_account_uid":         sa.uid(),
		"service_account_name":        sa.name(),
		"service_account_namespace":   sa.namespace(),
		"service_account_secret_name": sa.SecretName,
		"role":                        r.Name,
	}
	auth.DisplayName = sa.namespace() + "-" + sa.name()
	auth.Alias = sa.uid()
	if r.AliasNameSource == aliasSourceName {
		auth.Alias = sa.namespace() + "/" + sa.name()
	}
	auth.InternalData = map[string]string{"role": r.Name}
	return auth
}

// validateJWT parses the JWT, checks its signature against pem_keys (when
// configured), its time claims, issuer and audience, then the role's
// bindings. Failures are 403s worded as the plugin words them.
func (b *Backend) validateJWT(token string, r *role, c *config) (*serviceAccount, []string, error) {
	parsed, err := jwt.ParseSigned(token, allowedAlgs)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Denied, err, err.Error())
	}
	var claims jwt.Claims
	var sa serviceAccount
	if len(c.PEMKeys) == 0 {
		err = parsed.UnsafeClaimsWithoutVerification(&claims, &sa)
	} else {
		err = verifyWithAny(parsed, c.PEMKeys, &claims, &sa)
	}
	if err != nil {
		return nil, nil, err
	}
	expected := jwt.Expected{Time: b.clock.Now()}
	if !c.DisableISSValidation && c.Issuer != "" {
		expected.Issuer = c.Issuer
	}
	if strings.TrimSpace(r.Audience) != "" {
		expected.AnyAudience = jwt.Audience{r.Audience}
	}
	if err := claims.ValidateWithLeeway(expected, leeway); err != nil {
		return nil, nil, errs.Wrap(errs.Denied, err, err.Error())
	}
	if !(len(r.ServiceAccountNames) == 1 && r.ServiceAccountNames[0] == "*") &&
		!containsGlob(r.ServiceAccountNames, sa.name()) {
		return nil, nil, errs.New(errs.Denied, "service account name not authorized")
	}
	if r.ServiceAccountNamespaces[0] != "*" && !containsGlob(r.ServiceAccountNamespaces, sa.namespace()) {
		return nil, nil, errs.New(errs.Denied, "namespace not authorized")
	}
	return &sa, claims.Audience, nil
}

// verifyWithAny checks the signature with each configured key in turn. A
// bad signature is a plain "permission denied", as in the plugin.
func verifyWithAny(parsed *jwt.JSONWebToken, pemKeys []string, dest ...any) error {
	for _, k := range pemKeys {
		key, err := parsePublicKeyPEM([]byte(k))
		if err != nil {
			continue
		}
		if err := parsed.Claims(key, dest...); err == nil {
			return nil
		}
	}
	return denied()
}

// tokenReview is the TokenReview object, the fields pkid reads and writes.
type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences,omitempty"`
	} `json:"spec"`
	Status struct {
		Authenticated bool `json:"authenticated"`
		User          struct {
			Username string `json:"username"`
			UID      string `json:"uid"`
		} `json:"user"`
		Error string `json:"error"`
	} `json:"status"`
}

// review asks the cluster whether the JWT is valid and checks that it names
// the same service account as its claims.
func (b *Backend) review(ctx context.Context, c *config, token string, sa *serviceAccount, roleAud string, tokenAud []string) error {
	client, err := b.httpClient(c)
	if err != nil {
		return err
	}
	var tr tokenReview
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenReview"
	tr.Spec.Token = token
	tr.Spec.Audiences = tokenAud
	if roleAud != "" {
		tr.Spec.Audiences = []string{roleAud}
	}
	body, err := json.Marshal(tr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.ReviewTimeout)
	defer cancel()
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Host+"/apis/authentication.k8s.io/v1/tokenreviews", bytes.NewReader(body))
	if err != nil {
		return err
	}
	bearer := b.reviewerJWT(c)
	if bearer == "" {
		bearer = token // no reviewer: the client's JWT reviews itself
	}
	httpReq.Header.Set("Authorization", "Bearer "+bearer)
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Accept", "application/json")
	resp, err := client.Do(httpReq)
	if err != nil {
		return fmt.Errorf("kubernetes: token review: %w", err)
	}
	defer resp.Body.Close()
	return checkReview(resp, sa)
}

func checkReview(resp *http.Response, sa *serviceAccount) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return errors.New("lookup failed: service account unauthorized; this could mean it has been deleted")
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("lookup failed: %d %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var tr tokenReview
	if err := json.Unmarshal(raw, &tr); err != nil {
		return fmt.Errorf("lookup failed: %w", err)
	}
	if tr.Status.Error != "" {
		return fmt.Errorf("lookup failed: %s", tr.Status.Error)
	}
	if !tr.Status.Authenticated {
		return errors.New("lookup failed: service account jwt not valid")
	}
	// The username is system:serviceaccount:<namespace>:<name>.
	parts := strings.Split(tr.Status.User.Username, ":")
	if len(parts) != 4 {
		return errors.New("lookup failed: unexpected username format")
	}
	switch {
	case parts[3] != sa.name():
		return errors.New("JWT names did not match")
	case tr.Status.User.UID != sa.uid():
		return errors.New("JWT UIDs did not match")
	case parts[2] != sa.namespace():
		return errors.New("JWT namepaces did not match")
	}
	return nil
}

func (b *Backend) httpClient(c *config) (*http.Client, error) {
	pool, err := b.caPool(c)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: b.opts.ReviewTimeout,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool},
			TLSHandshakeTimeout: 10 * time.Second,
			DisableKeepAlives:   true,
		},
	}, nil
}
