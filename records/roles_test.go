package records

import (
	"reflect"
	"testing"
	"time"

	"github.com/pkid-dev/pkid/roles"
	"github.com/pkid-dev/pkid/storage"
	"github.com/pkid-dev/pkid/storage/storagetest"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	st := NewRoles(storagetest.Open(t).Space("mount-uuid"))
	if r, err := st.Get("web"); r != nil || err != nil {
		t.Fatalf("empty store: %v %v", r, err)
	}
	for _, name := range []string{"web", "alpha", "zeta", "mid"} {
		r := &roles.Role{Name: name}
		r.AllowedDomains, r.KeyBits = []string{name + ".example.com"}, 2048
		if err := st.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Get("web")
	if err != nil || got == nil || got.Name != "web" || got.AllowedDomains[0] != "web.example.com" || got.KeyBits != 2048 {
		t.Fatalf("get: %+v %v", got, err)
	}
	names, err := st.List("", 0)
	if err != nil || !reflect.DeepEqual(names, []string{"alpha", "mid", "web", "zeta"}) {
		t.Fatalf("list: %v %v", names, err)
	}
	names, _ = st.List("mid", 1)
	if !reflect.DeepEqual(names, []string{"web"}) {
		t.Fatalf("list after/limit: %v", names)
	}
	if err := st.Delete("web"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete("web"); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
	if r, _ := st.Get("web"); r != nil {
		t.Fatal("deleted role still there")
	}
}

// fillExported sets every exported field of v (recursively through
// embedded structs) to a value that is not its zero value.
func fillExported(t *testing.T, v reflect.Value, n *int) {
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		if !sf.IsExported() || sf.Name == "Name" {
			continue
		}
		*n++
		switch f.Kind() {
		case reflect.Struct:
			*n--
			fillExported(t, f, n)
		case reflect.String:
			f.SetString("s" + sf.Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			if f.Type() == reflect.TypeOf(time.Duration(0)) {
				f.SetInt(int64(time.Duration(*n) * time.Second))
			} else {
				f.SetInt(int64(*n))
			}
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"l" + sf.Name}))
		default:
			t.Fatalf("field %s of kind %s: teach the test", sf.Name, f.Kind())
		}
	}
}

// TestRoleRecordKeepsEveryField: a field added to roles.Role but not to
// the stored record type would be lost on write; this catches it.
func TestRoleRecordKeepsEveryField(t *testing.T) {
	t.Parallel()
	in := &roles.Role{Name: "all"}
	var n int
	fillExported(t, reflect.ValueOf(in).Elem(), &n)
	if got := reflect.TypeOf(roleV1{}).NumField() - 1; got != n {
		t.Fatalf("roleV1 has %d role fields, roles.Role has %d", got, n)
	}
	space := storagetest.Open(t).Space("m")
	err := space.Update(func(tx storage.Tx) error { return PutRole(tx, in) })
	if err != nil {
		t.Fatal(err)
	}
	var out *roles.Role
	_ = space.View(func(tx storage.Tx) error { out, err = GetRole(tx, "all"); return nil })
	if err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v (%v)", out, in, err)
	}
}

func TestRoleFromNewerPkid(t *testing.T) {
	t.Parallel()
	if _, err := DecodeRole("r", []byte(`{"version":2}`)); err == nil {
		t.Fatal("a version 2 record was read")
	}
}

func TestRoleCacheSeesRewrites(t *testing.T) {
	t.Parallel()
	space := storagetest.Open(t).Space("m")
	var c RoleCache
	get := func() *roles.Role {
		var r *roles.Role
		_ = space.View(func(tx storage.Tx) error {
			var err error
			r, err = c.Get(tx, "web")
			if err != nil {
				t.Fatal(err)
			}
			return nil
		})
		return r
	}
	if get() != nil {
		t.Fatal("role before any write")
	}
	for _, ttl := range []time.Duration{time.Hour, 2 * time.Hour} {
		r := &roles.Role{Name: "web"}
		r.TTL = ttl
		if err := space.Update(func(tx storage.Tx) error { return PutRole(tx, r) }); err != nil {
			t.Fatal(err)
		}
		if got := get(); got.TTL != ttl {
			t.Fatalf("cached TTL %v, want %v", got.TTL, ttl)
		}
	}
}
