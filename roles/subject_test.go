package roles

import (
	"reflect"
	"testing"
)

func TestSubjectName(t *testing.T) {
	t.Parallel()
	s := Subject{OU: []string{"Ops", "", "Ops", "Sec"}, Country: []string{"US"}, Organization: []string{""}}
	n := s.Name("example.com", "SN-1")
	if !reflect.DeepEqual(n.OrganizationalUnit, []string{"Ops", "Sec"}) || len(n.Organization) != 0 ||
		n.Country[0] != "US" || n.CommonName != "example.com" || n.SerialNumber != "SN-1" {
		t.Fatalf("%+v", n)
	}
}
