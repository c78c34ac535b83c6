package main

import (
	"strings"
	"testing"
	"time"
)

func TestLatencies(t *testing.T) {
	t.Parallel()
	var arr []arrival
	for i := range 100 {
		sent := int64(1000 + i)
		arr = append(arr, arrival{sent: sent, at: sent + int64(i+1)*int64(time.Millisecond)})
	}
	arr = append(arr, arrival{sent: 5, at: 10 * int64(time.Second)}) // published before the window
	l := latencies(arr, 1000, 2000)
	if l.Count != 100 || l.P50 != 51 || l.P95 != 96 || l.P99 != 100 || l.Max != 100 {
		t.Errorf("latencies = %+v, want 100 samples, p50 51, p95 96, p99 100, max 100 ms", l)
	}
	if l := latencies(nil, 0, 1); l.Count != 0 {
		t.Errorf("latencies of nothing = %+v", l)
	}
}

func TestIntList(t *testing.T) {
	t.Parallel()
	if got, err := intList("1, 3,10"); err != nil || len(got) != 3 || got[2] != 10 {
		t.Errorf("intList = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "1,x", "-2"} {
		if _, err := intList(bad); err == nil {
			t.Errorf("intList(%q) accepted", bad)
		}
	}
}

func TestMarkdownNamesEveryTarget(t *testing.T) {
	t.Parallel()
	r := &Results{
		Baseline: Baseline{Messages: 1000, MessageBytes: 300, Seconds: 0.02, PerSecond: 50000},
		Runs: []Run{
			{Fanout: 1, Workers: 1, Deliveries: 8000, DeliveriesPerSecond: 8000, Ratio: 0.16, CPUBusy: 1,
				Paced: &Paced{EventsPerSecond: 1000, Latency: Latency{Count: 1, P99: 12}}},
			{Fanout: 10, Workers: 1, Deliveries: 10000, DeliveriesPerSecond: 10000, Ratio: 0.2, CPUBusy: 1},
		},
		Ledger:   Ledger{Results: 10, RowsPerSecond: 30000},
		InFlight: InFlight{Deliveries: 1000, PeakRSS: 70 << 20},
	}
	md := r.Markdown()
	for _, want := range []string{"| fan-out 1 ≥ 15% of baseline | 16.0% (1 worker(s)) | met |", "1.250 × | **missed**",
		"p99 < 50 ms at 1,000 ev/s (1 worker(s)) | 12.0 ms | met", "30000 rows/s | met", "70.0 MiB peak | **missed**"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
