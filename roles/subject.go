package roles

import "crypto/x509/pkix"

// Subject holds the subject attribute lists that a role puts on every
// certificate it issues, and that the CA paths take from the request
// (spec §3.0 block CA, §4.1). Each is a comma list; nil means none.
type Subject struct {
	OU            []string
	Organization  []string
	Country       []string
	Locality      []string
	Province      []string
	StreetAddress []string
	PostalCode    []string
}

// Name builds a certificate subject from the lists, a common name and a
// subject serialNumber. Vault de-duplicates each list keeping the first
// occurrence and drops empty entries (strutil.RemoveDuplicatesStable); Go
// orders the attributes C, ST, L, street, postalCode, O, OU, CN,
// serialNumber (spec §5.3).
func (s Subject) Name(cn, serial string) pkix.Name {
	return pkix.Name{
		CommonName: cn, SerialNumber: serial,
		Country: dedupStable(s.Country), Organization: dedupStable(s.Organization),
		OrganizationalUnit: dedupStable(s.OU), Locality: dedupStable(s.Locality),
		Province: dedupStable(s.Province), StreetAddress: dedupStable(s.StreetAddress),
		PostalCode: dedupStable(s.PostalCode),
	}
}
