package api

import "github.com/pkid-dev/pkid/roles"

// subjectWire is the subject block Vault's role and CA schemas share
// (spec §3.0 block CA, §4.1): comma lists of attribute values. The names
// are Vault's and live here, at the edge, so roles.Subject stays a plain
// Go type.
type subjectWire struct {
	OU            []string `json:"ou"`
	Organization  []string `json:"organization"`
	Country       []string `json:"country"`
	Locality      []string `json:"locality"`
	Province      []string `json:"province"`
	StreetAddress []string `json:"street_address"`
	PostalCode    []string `json:"postal_code"`
}

func (s subjectWire) subject() roles.Subject {
	return roles.Subject{
		OU: s.OU, Organization: s.Organization, Country: s.Country,
		Locality: s.Locality, Province: s.Province,
		StreetAddress: s.StreetAddress, PostalCode: s.PostalCode,
	}
}

// subjectWireOf is the inverse, for defaults held in domain types.
func subjectWireOf(s roles.Subject) subjectWire {
	return subjectWire{
		OU: s.OU, Organization: s.Organization, Country: s.Country,
		Locality: s.Locality, Province: s.Province,
		StreetAddress: s.StreetAddress, PostalCode: s.PostalCode,
	}
}
