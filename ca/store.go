package ca

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// Storage keys of a mount's CA records (spec §6.1, the layout OpenBao uses).
const (
	issuerPrefix     = records.IssuerPrefix
	keyPrefix        = records.KeyPrefix
	issuersConfigKey = records.IssuersConfigKey
	keysConfigKey    = records.KeysConfigKey
	urlsKey          = records.URLsKey
	clusterKey       = records.ClusterKey
)

// recordVersion is the version field written into every CA record.
const recordVersion = 1

// keyRecord is a stored private key. CA private keys live only here, in
// the mount's own space, and leave it only through the "exported" forms of
// the generation endpoints.
type keyRecord struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Type    string `json:"private_key_type"`
	// PrivateKey is the key as PEM in its native encoding.
	PrivateKey string `json:"private_key"`
	// PendingIssuerName is the issuer_name given to intermediate/generate:
	// the issuer that an import later creates for a certificate of this key
	// gets that name (pkid's deliberate difference from Vault, which ignores
	// the field). It is cleared once used.
	PendingIssuerName string `json:"pending_issuer_name,omitempty"`
}

// issuerRecord is a stored issuer: a CA certificate, optionally linked to
// the key that signs for it.
type issuerRecord struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	// KeyID is the linked key; "" for a keyless issuer (a parent imported
	// for its chain, or a certificate imported before its key).
	KeyID string `json:"key_id"`
	// Certificate is the PEM with its trailing newline.
	Certificate string `json:"certificate"`
	// CAChain holds PEMs: the issuer itself, then every issuer of the mount
	// that (transitively) signed it, or the manual chain.
	CAChain []string `json:"ca_chain"`
	// ManualChain, when set, fixes CAChain to these issuer IDs (self first).
	ManualChain []string `json:"manual_chain"`
	// SerialNumber is the certificate's serial in colon form.
	SerialNumber string `json:"serial_number"`
	// LeafNotAfterBehavior is err (default), truncate or permit.
	LeafNotAfterBehavior string `json:"leaf_not_after_behavior"`
	Usage                Usage  `json:"usage"`
	// RevocationSigAlg names the CRL signature algorithm ("" = automatic).
	RevocationSigAlg  string      `json:"revocation_signature_algorithm"`
	Revoked           bool        `json:"revoked"`
	RevocationTime    int64       `json:"revocation_time"`
	RevocationTimeUTC time.Time   `json:"revocation_time_utc"`
	AIA               *urlsConfig `json:"aia_uris,omitempty"`
	LastModified      time.Time   `json:"last_modified"`
}

// issuersConfig is config/issuers.
type issuersConfig struct {
	Version       int    `json:"version"`
	Default       string `json:"default"`
	FollowsLatest bool   `json:"default_follows_latest_issuer"`
}

// keysConfig is config/keys.
type keysConfig struct {
	Version int    `json:"version"`
	Default string `json:"default"`
}

// urlsConfig holds AIA and CRL locations: config/urls, or one issuer's
// override.
type urlsConfig struct {
	IssuingCertificates        []string `json:"issuing_certificates"`
	CRLDistributionPoints      []string `json:"crl_distribution_points"`
	DeltaCRLDistributionPoints []string `json:"delta_crl_distribution_points"`
	OCSPServers                []string `json:"ocsp_servers"`
	EnableTemplating           bool     `json:"enable_templating"`
}

// empty reports whether no URL that issuance uses is set. Delta CRL
// locations alone do not count, as in Vault.
func (u *urlsConfig) empty() bool {
	return u == nil || len(u.IssuingCertificates) == 0 && len(u.CRLDistributionPoints) == 0 && len(u.OCSPServers) == 0
}

// clusterConfig is config/cluster: the mount's public URLs for templating.
type clusterConfig struct {
	Path    string `json:"path"`
	AIAPath string `json:"aia_path"`
}

// storedURLs is config/urls with its version.
type storedURLs struct {
	Version int `json:"version"`
	urlsConfig
}

// storedCluster is config/cluster with its version.
type storedCluster struct {
	Version int `json:"version"`
	clusterConfig
}

func getIssuer(tx storage.Tx, id string) (*issuerRecord, error) {
	var rec issuerRecord
	ok, err := storage.GetJSON(tx, issuerPrefix+id, &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

func putIssuer(tx storage.Tx, rec *issuerRecord) error {
	rec.Version = recordVersion
	return storage.PutJSON(tx, issuerPrefix+rec.ID, rec)
}

func getKey(tx storage.Tx, id string) (*keyRecord, error) {
	var rec keyRecord
	ok, err := storage.GetJSON(tx, keyPrefix+id, &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

func putKey(tx storage.Tx, rec *keyRecord) error {
	rec.Version = recordVersion
	return storage.PutJSON(tx, keyPrefix+rec.ID, rec)
}

// allIssuers returns every issuer in storage (ID) order.
func allIssuers(tx storage.Tx) ([]*issuerRecord, error) {
	var out []*issuerRecord
	err := tx.Scan(issuerPrefix, "", func(_ string, v []byte) error {
		rec, err := decodeIssuer(v)
		if err != nil {
			return err
		}
		out = append(out, rec)
		return nil
	})
	return out, err
}

// allKeys returns every key in storage (ID) order.
func allKeys(tx storage.Tx) ([]*keyRecord, error) {
	var out []*keyRecord
	err := tx.Scan(keyPrefix, "", func(k string, v []byte) error {
		var rec keyRecord
		if err := jsonUnmarshal(v, &rec); err != nil {
			return fmt.Errorf("ca: decode key %s: %w", k, err)
		}
		out = append(out, &rec)
		return nil
	})
	return out, err
}

func decodeIssuer(v []byte) (*issuerRecord, error) {
	var rec issuerRecord
	if err := jsonUnmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("ca: decode issuer: %w", err)
	}
	return &rec, nil
}

func getIssuersConfig(tx storage.Tx) (issuersConfig, error) {
	var c issuersConfig
	_, err := storage.GetJSON(tx, issuersConfigKey, &c)
	return c, err
}

func putIssuersConfig(tx storage.Tx, c issuersConfig) error {
	c.Version = recordVersion
	return storage.PutJSON(tx, issuersConfigKey, c)
}

func getKeysConfig(tx storage.Tx) (keysConfig, error) {
	var c keysConfig
	_, err := storage.GetJSON(tx, keysConfigKey, &c)
	return c, err
}

func putKeysConfig(tx storage.Tx, c keysConfig) error {
	c.Version = recordVersion
	return storage.PutJSON(tx, keysConfigKey, c)
}

func getURLs(tx storage.Tx) (urlsConfig, error) {
	var s storedURLs
	_, err := storage.GetJSON(tx, urlsKey, &s)
	return s.urlsConfig, err
}

func getCluster(tx storage.Tx) (clusterConfig, error) {
	var s storedCluster
	_, err := storage.GetJSON(tx, clusterKey, &s)
	return s.clusterConfig, err
}

// Usage is the set of things an issuer may be used for (spec §3.1 issuer
// usage). read-only is implicit and always present.
type Usage uint8

// Issuer usages.
const (
	UsageIssuing     Usage = 1 << iota // issuing-certificates
	UsageCRLSigning                    // crl-signing
	UsageOCSPSigning                   // ocsp-signing

	UsageAll = UsageIssuing | UsageCRLSigning | UsageOCSPSigning
)

var usageNames = map[string]Usage{
	"read-only":            0,
	"issuing-certificates": UsageIssuing,
	"crl-signing":          UsageCRLSigning,
	"ocsp-signing":         UsageOCSPSigning,
}

// Has reports whether every usage of want is in u.
func (u Usage) Has(want Usage) bool { return u&want == want }

// String renders the usages as Vault does: names sorted and comma-joined,
// always including read-only.
func (u Usage) String() string {
	var names []string
	for name, bit := range usageNames {
		if u.Has(bit) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// MarshalText stores usages by name.
func (u Usage) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText reads stored usages.
func (u *Usage) UnmarshalText(b []byte) error {
	var names []string
	if len(b) > 0 {
		names = strings.Split(string(b), ",")
	}
	v, err := ParseUsage(names)
	*u = v
	return err
}

// ParseUsage reads usage names (read-only, issuing-certificates,
// crl-signing, ocsp-signing).
func ParseUsage(names []string) (Usage, error) {
	var u Usage
	for i, n := range names {
		bit, ok := usageNames[n]
		if !ok {
			return 0, fmt.Errorf("unknown name for usage at index %v: %v", i, n)
		}
		u |= bit
	}
	return u, nil
}

// parseCertPEM parses a single PEM certificate.
func parseCertPEM(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("ca: unable to parse certificate: invalid PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}
