package ca

import "encoding/json"

// uuidLength is the length of an ID; references of that length are tried as
// IDs before names, as Vault does.
const uuidLength = 36

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
