package ca

// uuidLength is the length of an ID; references of that length are tried as
// IDs before names, as Vault does.
const uuidLength = 36
