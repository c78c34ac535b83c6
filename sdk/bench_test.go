package sdk_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk"
)

func benchEvent(b *testing.B) *sdk.Event {
	b.Helper()
	e, err := sdk.NewNodeLaunched("acme", sdk.NodeLaunched{NodeID: "n-1", Provider: "aws", Region: "us-east-1",
		GPUType: "H100", GPUCount: 8, Model: "llama-3-70b", Spot: true, PricePerHour: 12.5,
		LaunchDuration: sdk.SecondsOf(93 * time.Second)}, sdk.WithSource("nodes"))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func BenchmarkEncodeEvent(b *testing.B) {
	e := benchEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body, err := json.Marshal(benchEvent(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdk.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewNodeLaunched(b *testing.B) {
	p := sdk.NodeLaunched{NodeID: "n-1", Provider: "aws", GPUType: "H100", GPUCount: 8}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdk.NewNodeLaunched("acme", p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := sdk.NewID(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPublish measures one synchronous publish round trip to an embedded server.
func BenchmarkPublish(b *testing.B) {
	bundle := setupPublisher(b)
	e := benchEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		e.ID, _ = sdk.NewID() // distinct ids, or the stream only counts duplicates
		if _, err := bundle.pub.Publish(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishBatch reports the cost per event of batches of 500.
func BenchmarkPublishBatch(b *testing.B) {
	bundle := setupPublisher(b)
	const size = 500
	events := make([]*sdk.Event, size)
	for i := range events {
		events[i] = benchEvent(b)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, e := range events {
			e.ID, _ = sdk.NewID()
		}
		if _, err := bundle.pub.PublishBatch(b.Context(), events); err != nil {
			b.Fatal(err)
		}
		n += size
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}
