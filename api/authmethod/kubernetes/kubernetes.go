// Package kubernetes is Vault's Kubernetes auth method: a service account
// JWT is checked against a role's bound service account names and
// namespaces, then confirmed by the configured cluster's TokenReview API
// (POST /apis/authentication.k8s.io/v1/tokenreviews) over TLS, and traded
// for a token. Behaviour and wording follow
// hashicorp/vault-plugin-auth-kubernetes.
package kubernetes

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pkid-dev/pkid/api/authmethod"
	"github.com/pkid-dev/pkid/clock"
	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/storage"
)

// Storage keys inside the mount's space.
const (
	keyConfig = "config"
)

// The in-pod files Vault falls back to when no CA or reviewer JWT is
// configured and disable_local_ca_jwt is false.
const (
	LocalCACertPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
	LocalJWTPath    = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// Options tune a Backend. The zero value is production.
type Options struct {
	// LocalCACertPath and LocalJWTPath override the in-pod file locations.
	LocalCACertPath string
	LocalJWTPath    string
	// ReviewTimeout bounds one TokenReview call. Zero means 30 seconds.
	ReviewTimeout time.Duration
}

// Backend is one kubernetes auth mount.
type Backend struct {
	space *storage.Space
	clock clock.Clock
	opts  Options
}

// New returns the kubernetes backend of a mount whose records live in space.
func New(space *storage.Space, clk clock.Clock, opts Options) *Backend {
	if opts.LocalCACertPath == "" {
		opts.LocalCACertPath = LocalCACertPath
	}
	if opts.LocalJWTPath == "" {
		opts.LocalJWTPath = LocalJWTPath
	}
	if opts.ReviewTimeout == 0 {
		opts.ReviewTimeout = 30 * time.Second
	}
	return &Backend{space: space, clock: clk, opts: opts}
}

// config is the stored mount configuration.
type config struct {
	Version              int      `json:"version"`
	Host                 string   `json:"kubernetes_host"`
	CACert               string   `json:"kubernetes_ca_cert"`
	TokenReviewerJWT     string   `json:"token_reviewer_jwt"`
	PEMKeys              []string `json:"pem_keys"`
	Issuer               string   `json:"issuer"`
	DisableISSValidation bool     `json:"disable_iss_validation"`
	DisableLocalCAJWT    bool     `json:"disable_local_ca_jwt"`
}

// ConfigRequest is the body of POST config. A write replaces the whole
// configuration, as in Vault.
type ConfigRequest struct {
	KubernetesHost       string   `json:"kubernetes_host"`
	KubernetesCACert     string   `json:"kubernetes_ca_cert"`
	TokenReviewerJWT     string   `json:"token_reviewer_jwt"`
	PEMKeys              []string `json:"pem_keys" field:"list"`
	Issuer               string   `json:"issuer"`
	DisableISSValidation *bool    `json:"disable_iss_validation"`
	DisableLocalCAJWT    bool     `json:"disable_local_ca_jwt"`
}

// WriteConfig validates and stores the mount configuration.
func (b *Backend) WriteConfig(req ConfigRequest) error {
	host := strings.TrimSpace(req.KubernetesHost)
	if host == "" {
		return errs.Invalidf("no host provided")
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	if req.TokenReviewerJWT != "" {
		if _, err := jwt.ParseSigned(req.TokenReviewerJWT, allowedAlgs); err != nil {
			return errs.Wrap(errs.InvalidVault500, err, err.Error())
		}
	}
	if req.KubernetesCACert != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(req.KubernetesCACert)) {
			return errs.Invalidf("kubernetes_ca_cert does not contain a PEM certificate")
		}
	}
	for _, k := range req.PEMKeys {
		if _, err := parsePublicKeyPEM([]byte(k)); err != nil {
			return errs.Invalidf("%v", err)
		}
	}
	c := config{
		Version: 1, Host: strings.TrimRight(host, "/"), CACert: req.KubernetesCACert,
		TokenReviewerJWT: req.TokenReviewerJWT, PEMKeys: req.PEMKeys, Issuer: req.Issuer,
		DisableISSValidation: true, DisableLocalCAJWT: req.DisableLocalCAJWT,
	}
	if req.DisableISSValidation != nil {
		c.DisableISSValidation = *req.DisableISSValidation
	}
	return b.space.Update(func(tx storage.Tx) error { return storage.PutJSON(tx, keyConfig, c) })
}

func (b *Backend) loadConfig() (*config, error) {
	var c config
	var found bool
	err := b.space.View(func(tx storage.Tx) error {
		var err error
		found, err = storage.GetJSON(tx, keyConfig, &c)
		return err
	})
	if err != nil || !found {
		return nil, err
	}
	return &c, nil
}

// ReadConfig returns the configuration as GET config shows it (the
// reviewer JWT is not returned, only whether one is set), or nil.
func (b *Backend) ReadConfig() (map[string]any, error) {
	c, err := b.loadConfig()
	if err != nil || c == nil {
		return nil, err
	}
	keys := c.PEMKeys
	if keys == nil {
		keys = []string{}
	}
	return map[string]any{
		"kubernetes_host":        c.Host,
		"kubernetes_ca_cert":     c.CACert,
		"pem_keys":               keys,
		"issuer":                 c.Issuer,
		"disable_iss_validation": c.DisableISSValidation,
		"disable_local_ca_jwt":   c.DisableLocalCAJWT,
		"token_reviewer_jwt_set": c.TokenReviewerJWT != "",
	}, nil
}

// caPool returns the roots to trust for the cluster: the configured CA,
// else the in-pod CA file (unless disable_local_ca_jwt), else the system's.
func (b *Backend) caPool(c *config) (*x509.CertPool, error) {
	caPEM := []byte(c.CACert)
	if len(caPEM) == 0 && !c.DisableLocalCAJWT {
		if local, err := os.ReadFile(b.opts.LocalCACertPath); err == nil {
			caPEM = local
		}
	}
	if len(caPEM) == 0 {
		return nil, nil // nil RootCAs: the system pool
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("kubernetes: no certificate in the configured CA")
	}
	return pool, nil
}

// reviewerJWT is the bearer for TokenReview calls: the configured reviewer
// JWT, else the in-pod token, else empty (the client's own JWT is used).
func (b *Backend) reviewerJWT(c *config) string {
	if c.TokenReviewerJWT != "" {
		return c.TokenReviewerJWT
	}
	if !c.DisableLocalCAJWT {
		if local, err := os.ReadFile(b.opts.LocalJWTPath); err == nil {
			return strings.TrimSpace(string(local))
		}
	}
	return ""
}

// parsePublicKeyPEM reads an RSA or ECDSA public key, or a certificate's.
func parsePublicKeyPEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block != nil {
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			cert, cerr := x509.ParseCertificate(block.Bytes)
			if cerr != nil {
				return nil, err
			}
			key = cert.PublicKey
		}
		switch key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			return key, nil
		}
	}
	return nil, fmt.Errorf("data does not contain any valid RSA or ECDSA public keys")
}

// role is a stored role.
type role struct {
	Version                  int      `json:"version"`
	Name                     string   `json:"name"`
	ServiceAccountNames      []string `json:"bound_service_account_names"`
	ServiceAccountNamespaces []string `json:"bound_service_account_namespaces"`
	Audience                 string   `json:"audience"`
	AliasNameSource          string   `json:"alias_name_source"`
	authmethod.TokenParams
}

// Alias name sources.
const (
	aliasSourceUID  = "serviceaccount_uid"
	aliasSourceName = "serviceaccount_name"
)
