// Package vaultcli replays the tutorial's vault commands word for word
// through the pieces the vault CLI itself is made of: kv-builder parses
// each command's key=value words (with @file and - for stdin) into the
// request body, and github.com/hashicorp/vault/api sends it. No vault
// binary is needed. The test is the package; there is no library here.
package vaultcli
