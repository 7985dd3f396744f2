package ca

import (
	"bytes"
	"crypto"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/pkid-dev/pkid/errs"
	"github.com/pkid-dev/pkid/records"
	"github.com/pkid-dev/pkid/storage"
)

// KeyInfo describes a stored key; the private key itself is never part of
// it.
type KeyInfo struct {
	ID, Name string
	// Type is rsa, ec or ed25519.
	Type string
	// SubjectKeyID is the key's SKID in colon hex.
	SubjectKeyID string
	IsDefault    bool
}

func (a *Authority) keyInfo(rec *records.Key, defaultID string) (*KeyInfo, error) {
	s, err := a.signer(rec.PrivateKey)
	if err != nil {
		return nil, err
	}
	skid, err := SubjectKeyID(s.Public())
	if err != nil {
		return nil, err
	}
	return &KeyInfo{ID: rec.ID, Name: rec.Name, Type: rec.Type, SubjectKeyID: FormatKeyID(skid),
		IsDefault: rec.ID == defaultID}, nil
}

// ListKeys returns every key in ID order (LIST keys).
func (a *Authority) ListKeys() ([]KeyInfo, error) {
	var out []KeyInfo
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		recs, err := records.AllKeys(tx)
		if err != nil {
			return err
		}
		cfg, err := records.GetKeysConfig(tx)
		if err != nil {
			return err
		}
		for _, r := range recs {
			out = append(out, KeyInfo{ID: r.ID, Name: r.Name, Type: r.Type, IsDefault: r.ID == cfg.Default})
		}
		return nil
	})
	return out, err
}

// Key reads one key; an unknown reference is errs.InvalidVault500 (500 in
// Vault): "unable to find PKI key for reference: X".
func (a *Authority) Key(ref string) (*KeyInfo, error) {
	var info *KeyInfo
	err := a.cfg.Space.View(func(tx storage.Tx) error {
		rec, err := keyKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.InvalidVault500, "")
		}
		info, err = a.keyInfo(rec, "")
		return err
	})
	return info, err
}

// RenameKey sets (or, with "", removes) a key's name.
func (a *Authority) RenameKey(ref, name string) (*KeyInfo, []string, error) {
	name = strings.TrimSpace(name)
	if name != "" && (!nameRegexp.MatchString(name) || strings.EqualFold(name, DefaultRef)) {
		return nil, nil, errs.Invalidf("new key name outside of valid character limits")
	}
	var info *KeyInfo
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		rec, err := keyKind.resolve(tx, ref)
		if err != nil {
			return refErr(err, errs.InvalidVault500, "")
		}
		if taken, err := keyKind.nameTaken(tx, name, rec.ID); err != nil || taken {
			return orErr(err, errKeyNameInUse)
		}
		if rec.Name != name {
			rec.Name = name
			if err := records.PutKey(tx, rec); err != nil {
				return err
			}
		}
		info, err = a.keyInfo(rec, "")
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	if name == "" {
		warnings = append(warnings, "Name successfully deleted, you will now need to reference this key by it's Id: "+info.ID)
	}
	return info, warnings, nil
}

// DeleteKey removes a key no issuer uses (errs.Invalid "Failed to Delete
// Key.  Key in Use by Issuer: <id>" otherwise). An unknown reference is not
// an error (deleted=false). Deleting the default key unsets it, with a
// warning.
func (a *Authority) DeleteKey(ref string) (deleted bool, warnings []string, err error) {
	err = a.cfg.Space.Update(func(tx storage.Tx) error {
		deleted, warnings = false, nil
		rec, err := keyKind.resolve(tx, ref)
		if isRefError(err) {
			return nil
		} else if err != nil {
			return err
		}
		issuers, err := records.AllIssuers(tx)
		if err != nil {
			return err
		}
		for _, is := range issuers {
			if is.KeyID == rec.ID {
				return errs.Invalidf("Failed to Delete Key.  Key in Use by Issuer: %s", is.ID)
			}
		}
		cfg, err := records.GetKeysConfig(tx)
		if err != nil {
			return err
		}
		if cfg.Default == rec.ID {
			if err := records.PutKeysConfig(tx, records.KeysConfig{}); err != nil {
				return err
			}
			warnings = append(warnings, fmt.Sprintf("Deleted key %v (via key_ref %v); this was configured as the default key. Operations without an explicit key will not work until a new default is configured.", rec.ID, NormalizeRef(ref)))
		}
		deleted = true
		return records.DeleteKey(tx, rec.ID)
	})
	return deleted, warnings, err
}

// NewKey generates and stores a key (keys/generate/:type, internal or
// exported). Refusals read "Validation for key_type, key_bits failed: ...".
// The first key becomes the default key.
func (a *Authority) NewKey(name, keyType string, bits int) (*KeyInfo, crypto.Signer, error) {
	if keyType == "" {
		keyType = KeyTypeRSA
	}
	if _, err := ValidateKeyTypeBits(keyType, bits); err != nil {
		return nil, nil, errs.Invalidf("Validation for key_type, key_bits failed: %s", errs.Message(err))
	}
	_, name, err := a.checkNewNames(nil, name)
	if err != nil {
		return nil, nil, err
	}
	key, err := a.newKey(keyType, bits)
	if err != nil {
		return nil, nil, err
	}
	info, _, err := a.storeNewKey(key, name)
	return info, key, err
}

// ImportKey imports one PEM private key (keys/import): PKCS#1, SEC 1 or
// PKCS#8. A key already stored is returned with Vault's warning "Key
// already imported, use key/ endpoint to update name.". A new key links
// keyless issuers with the same public key.
func (a *Authority) ImportKey(pemBundle, name string) (*KeyInfo, []string, error) {
	_, name, err := a.checkNewNames(nil, name)
	if err != nil {
		return nil, nil, err
	}
	if len(pemBundle) < 64 {
		return nil, nil, errs.Invalidf("provided data for import was too short; perhaps a path was passed to the API rather than the contents of a PEM file")
	}
	rest := []byte(pemBundle)
	var blocks []*pem.Block
	for len(bytes.TrimSpace(rest)) > 0 {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, nil, errs.Invalidf("provided PEM block contained no data")
		}
		blocks = append(blocks, b)
	}
	if len(blocks) != 1 {
		return nil, nil, errs.Invalidf("only a single key can be present within the pem_bundle for importing")
	}
	key, err := ParsePrivateKeyDER(blocks[0].Bytes)
	if err != nil {
		return nil, nil, err
	}
	info, existed, err := a.storeNewKey(key, name)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	if existed {
		warnings = append(warnings, "Key already imported, use key/ endpoint to update name.")
	}
	return info, warnings, nil
}

func (a *Authority) storeNewKey(key crypto.Signer, name string) (*KeyInfo, bool, error) {
	var info *KeyInfo
	var existed bool
	err := a.cfg.Space.Update(func(tx storage.Tx) error {
		rec, ex, err := a.storeKey(tx, key, name, "")
		if err != nil {
			return err
		}
		existed = ex
		if !ex {
			if err := a.rebuildChains(tx); err != nil {
				return err
			}
		}
		info, err = a.keyInfo(rec, "")
		return err
	})
	return info, existed, err
}
