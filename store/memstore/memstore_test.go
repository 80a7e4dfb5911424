package memstore_test

import (
	"testing"

	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() }, storetest.Features{Outbox: true,
		Dump: func(t *testing.T, st store.Store) []string { return storetest.DumpMemory(st) }})
}
