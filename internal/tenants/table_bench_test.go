package tenants

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/obs"
)

// benchEntry is a bucket entry for filling a table without a bucket.
type benchEntry struct {
	jetstream.KeyValueEntry
	key   string
	value []byte
}

func (e benchEntry) Key() string                     { return e.key }
func (e benchEntry) Value() []byte                   { return e.value }
func (e benchEntry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }
func (e benchEntry) Revision() uint64                { return 1 }
func (e benchEntry) Created() time.Time              { return time.Time{} }

// BenchmarkTableRoute is the dispatcher's cost per event of tenant routing, with 1,000
// tenants of five destinations each: for a tenant without destinations, and for one with.
func BenchmarkTableRoute(b *testing.B) {
	tb := NewTable(nil, nil, nil, obs.Discard())
	for i := range 1000 {
		tenant := "t" + strconv.Itoa(i)
		for j := range 5 {
			en := Entry{Tenant: tenant, ID: "d" + strconv.Itoa(j), Channel: "webhook", EventTypes: []string{"payment.*", "node.terminated"}, Enabled: true, Sealed: "x"}
			v, _ := json.Marshal(en)
			tb.apply(benchEntry{key: destKey(en.Tenant, en.ID), value: v})
		}
	}
	for _, bc := range []struct {
		name, tenant string
		want         int
	}{{"tenant-without-destinations", "acme", 0}, {"tenant-with-destinations", "t500", 5}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(tb.Route(bc.tenant, "payment.failed")) != bc.want {
					b.Fatal("wrong route")
				}
			}
		})
	}
}
