package records

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pkid-dev/pkid/storage"
)

// The CA's own records: issuers, keys and the mount-wide CA configs
// (config/issuers, config/keys, config/urls, config/cluster). ca decides
// what goes in them; only this file knows how they sit on disk. Field
// order, names and omitempty are the disk format (api's golden files pin
// them), so a field is only ever added, never renamed or moved.

// caRecordVersion is the version field written into every CA record.
const caRecordVersion = 1

// Key is a stored private key. CA private keys live only here, in the
// mount's own space, and leave it only through the "exported" forms of the
// generation endpoints.
type Key struct {
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

// Issuer is a stored issuer: a CA certificate, optionally linked to the key
// that signs for it.
type Issuer struct {
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
	RevocationSigAlg  string    `json:"revocation_signature_algorithm"`
	Revoked           bool      `json:"revoked"`
	RevocationTime    int64     `json:"revocation_time"`
	RevocationTimeUTC time.Time `json:"revocation_time_utc"`
	// AIA is the issuer's own URL override; nil uses config/urls.
	AIA          *URLs     `json:"aia_uris,omitempty"`
	LastModified time.Time `json:"last_modified"`
}

// IssuersConfig is config/issuers: the default issuer.
type IssuersConfig struct {
	Version       int    `json:"version"`
	Default       string `json:"default"`
	FollowsLatest bool   `json:"default_follows_latest_issuer"`
}

// KeysConfig is config/keys: the default key.
type KeysConfig struct {
	Version int    `json:"version"`
	Default string `json:"default"`
}

// URLs holds AIA and CRL locations: config/urls, or one issuer's override
// (Issuer.AIA, stored without a version of its own).
type URLs struct {
	IssuingCertificates        []string `json:"issuing_certificates"`
	CRLDistributionPoints      []string `json:"crl_distribution_points"`
	DeltaCRLDistributionPoints []string `json:"delta_crl_distribution_points"`
	OCSPServers                []string `json:"ocsp_servers"`
	EnableTemplating           bool     `json:"enable_templating"`
}

// Empty reports whether no URL that issuance uses is set. Delta CRL
// locations alone do not count, as in Vault.
func (u *URLs) Empty() bool {
	return u == nil || len(u.IssuingCertificates) == 0 && len(u.CRLDistributionPoints) == 0 && len(u.OCSPServers) == 0
}

// Cluster is config/cluster: the mount's public URLs for templating.
type Cluster struct {
	Path    string `json:"path"`
	AIAPath string `json:"aia_path"`
}

// urlsV1 is config/urls as stored: the URLs flattened after a version, so
// the version stays out of Issuer.AIA, which shares the URLs type.
type urlsV1 struct {
	Version int `json:"version"`
	URLs
}

// clusterV1 is config/cluster as stored, with its version.
type clusterV1 struct {
	Version int `json:"version"`
	Cluster
}

// GetIssuer returns the issuer with the given ID, or nil.
func GetIssuer(tx storage.Tx, id string) (*Issuer, error) {
	var rec Issuer
	ok, err := storage.GetJSON(tx, IssuerPrefix+id, &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

// PutIssuer writes rec under its ID, stamping the current version.
func PutIssuer(tx storage.Tx, rec *Issuer) error {
	rec.Version = caRecordVersion
	return storage.PutJSON(tx, IssuerPrefix+rec.ID, rec)
}

// DeleteIssuer removes the issuer with the given ID.
func DeleteIssuer(tx storage.Tx, id string) error { return tx.Delete(IssuerPrefix + id) }

// GetKey returns the key with the given ID, or nil.
func GetKey(tx storage.Tx, id string) (*Key, error) {
	var rec Key
	ok, err := storage.GetJSON(tx, KeyPrefix+id, &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

// PutKey writes rec under its ID, stamping the current version.
func PutKey(tx storage.Tx, rec *Key) error {
	rec.Version = caRecordVersion
	return storage.PutJSON(tx, KeyPrefix+rec.ID, rec)
}

// DeleteKey removes the key with the given ID.
func DeleteKey(tx storage.Tx, id string) error { return tx.Delete(KeyPrefix + id) }

// AllIssuers returns every issuer in storage (ID) order. It reads them with
// one full scan, which ca's signing cache can record and replay. Decode
// errors keep the "ca:" wording they had before the records moved here.
func AllIssuers(tx storage.Tx) ([]*Issuer, error) {
	var out []*Issuer
	err := tx.Scan(IssuerPrefix, "", func(_ string, v []byte) error {
		var rec Issuer
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("ca: decode issuer: %w", err)
		}
		out = append(out, &rec)
		return nil
	})
	return out, err
}

// AllKeys returns every key in storage (ID) order.
func AllKeys(tx storage.Tx) ([]*Key, error) {
	var out []*Key
	err := tx.Scan(KeyPrefix, "", func(k string, v []byte) error {
		var rec Key
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("ca: decode key %s: %w", k, err)
		}
		out = append(out, &rec)
		return nil
	})
	return out, err
}

// DeleteAllIssuersAndKeys removes every issuer, then every key; the
// defaults in config/issuers and config/keys are the caller's to unset.
func DeleteAllIssuersAndKeys(tx storage.Tx) error {
	for _, prefix := range []string{IssuerPrefix, KeyPrefix} {
		keys, err := tx.Keys(prefix, "", 0)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(prefix + k); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetIssuersConfig returns config/issuers; the zero value when unset.
func GetIssuersConfig(tx storage.Tx) (IssuersConfig, error) {
	var c IssuersConfig
	_, err := storage.GetJSON(tx, IssuersConfigKey, &c)
	return c, err
}

// PutIssuersConfig writes config/issuers, stamping the current version.
func PutIssuersConfig(tx storage.Tx, c IssuersConfig) error {
	c.Version = caRecordVersion
	return storage.PutJSON(tx, IssuersConfigKey, c)
}

// GetKeysConfig returns config/keys; the zero value when unset.
func GetKeysConfig(tx storage.Tx) (KeysConfig, error) {
	var c KeysConfig
	_, err := storage.GetJSON(tx, KeysConfigKey, &c)
	return c, err
}

// PutKeysConfig writes config/keys, stamping the current version.
func PutKeysConfig(tx storage.Tx, c KeysConfig) error {
	c.Version = caRecordVersion
	return storage.PutJSON(tx, KeysConfigKey, c)
}

// GetURLs returns config/urls; the zero value when unset.
func GetURLs(tx storage.Tx) (URLs, error) {
	var s urlsV1
	_, err := storage.GetJSON(tx, URLsKey, &s)
	return s.URLs, err
}

// PutURLs writes config/urls with the current version.
func PutURLs(tx storage.Tx, c URLs) error {
	return storage.PutJSON(tx, URLsKey, urlsV1{Version: caRecordVersion, URLs: c})
}

// GetCluster returns config/cluster; the zero value when unset.
func GetCluster(tx storage.Tx) (Cluster, error) {
	var s clusterV1
	_, err := storage.GetJSON(tx, ClusterKey, &s)
	return s.Cluster, err
}

// PutCluster writes config/cluster with the current version.
func PutCluster(tx storage.Tx, c Cluster) error {
	return storage.PutJSON(tx, ClusterKey, clusterV1{Version: caRecordVersion, Cluster: c})
}
