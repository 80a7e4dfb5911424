package postgres

import (
	"reflect"
	"testing"

	"github.com/attriqs/calltrack/store/internal/sqlstore"
)

// The Store keeps the engine in an unexported field, so nothing is
// promoted from it: an engine method the Store lacks is lost to users.
// The store interfaces' methods come from zz_methods.go (go generate
// ./store/...); the rest are written in postgres.go.
func TestStoreHasEveryEngineMethod(t *testing.T) {
	st := reflect.TypeFor[*Store]()
	e := reflect.TypeFor[*sqlstore.Engine]()
	for i := range e.NumMethod() {
		name := e.Method(i).Name
		if _, ok := st.MethodByName(name); !ok {
			t.Errorf("*sqlstore.Engine has %s but *Store does not: add it to a store interface and run go generate ./store/..., or write it in postgres.go", name)
		}
	}
}
