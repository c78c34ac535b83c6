package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Results is one benchmark run, as written to results.json.
type Results struct {
	Command     string    `json:"command"`
	Started     time.Time `json:"started"`
	Elapsed     string    `json:"elapsed"`
	Machine     Machine   `json:"machine"`
	Baseline    Baseline  `json:"baseline"`
	Runs        []Run     `json:"runs"`
	Ledger      Ledger    `json:"ledger"`
	InFlight    InFlight  `json:"in_flight"`
	NATSPeakRSS int64     `json:"nats_peak_rss_bytes,omitempty"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int     `json:"cpus"`
	CPUModel   string  `json:"cpu_model"`
	MemoryGiB  float64 `json:"memory_gib"`
	Kernel     string  `json:"kernel"`
	Go         string  `json:"go"`
	NATS       string  `json:"nats_server"`
	PostgreSQL string  `json:"postgresql"`
}

// Baseline is the bare JetStream loop.
type Baseline struct {
	Messages     int     `json:"messages"`
	MessageBytes int     `json:"message_bytes"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"msgs_per_second"`
}

// Latency is publish-to-delivery latency in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Paced is a run at a fixed offered load.
type Paced struct {
	EventsPerSecond int     `json:"events_per_second"`
	Latency         Latency `json:"latency"`
}

// Process is one process of a run.
type Process struct {
	Name       string  `json:"name"`
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSS    int64   `json:"peak_rss_bytes"`
}

// Run is one pipeline configuration.
type Run struct {
	Fanout              int       `json:"fanout"`
	Workers             int       `json:"workers"`
	Deliveries          int64     `json:"deliveries"`
	Seconds             float64   `json:"seconds"`
	DeliveriesPerSecond float64   `json:"deliveries_per_second"`
	EventsPerSecond     float64   `json:"events_per_second"`
	Ratio               float64   `json:"ratio_to_baseline"`
	Paced               *Paced    `json:"paced,omitempty"`
	Saturation          Latency   `json:"saturation_latency"`
	HeraldCPUPer1k      float64   `json:"herald_cpu_seconds_per_1000"`
	MachineCPUPer1k     float64   `json:"machine_cpu_seconds_per_1000"`
	CPUBusy             float64   `json:"cpu_busy"`
	LedgerRowsPerSecond float64   `json:"ledger_rows_per_second"`
	Processes           []Process `json:"processes"`
	Rejected            int64     `json:"rejected_signatures"`
}

// Ledger is the recorder's run over preloaded results.
type Ledger struct {
	Results          int     `json:"results"`
	Seconds          float64 `json:"seconds"`
	ResultsPerSecond float64 `json:"results_per_second"`
	RowsPerSecond    float64 `json:"rows_per_second"`
	RecorderCPUPer1k float64 `json:"dispatcher_cpu_seconds_per_1000_results"`
}

// InFlight is a worker holding many deliveries at once.
type InFlight struct {
	Deliveries int   `json:"deliveries"`
	Held       int64 `json:"held"`
	RSS        int64 `json:"worker_rss_bytes"`
	PeakRSS    int64 `json:"worker_peak_rss_bytes"`
}

func mib(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

func lat(l Latency) string {
	if l.Count == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f / %.1f / %.1f", l.P50, l.P95, l.P99)
}

// Markdown renders the results as the tables of the performance page.
func (r *Results) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Command: `%s` (took %s)\n\n", r.Command, r.Elapsed)
	fmt.Fprintf(&b, "Machine: %d CPUs, %s, %.1f GiB, %s; %s; NATS server %s (embedded, file storage); PostgreSQL %s.\n\n",
		m.CPUs, m.CPUModel, m.MemoryGiB, m.Kernel, m.Go, m.NATS, m.PostgreSQL)
	if r.Baseline.Messages > 0 {
		fmt.Fprintf(&b, "Baseline (async publish with Nats-Msg-Id + pull consumer with explicit ack, %d-byte messages): **%.0f msgs/s** (%d messages in %.2f s).\n\n",
			r.Baseline.MessageBytes, r.Baseline.PerSecond, r.Baseline.Messages, r.Baseline.Seconds)
	}
	if len(r.Runs) > 0 {
		b.WriteString(runsTable(r.Runs))
	}
	if r.Ledger.Results > 0 {
		fmt.Fprintf(&b, "Ledger: %d results preloaded into RESULTS, written by the recorder: **%.0f results/s, %.0f rows/s** (a delivery row and an attempt row each; %.3f dispatcher CPU s per 1,000 results).\n\n",
			r.Ledger.Results, r.Ledger.ResultsPerSecond, r.Ledger.RowsPerSecond, r.Ledger.RecorderCPUPer1k)
	}
	if r.InFlight.Deliveries > 0 {
		fmt.Fprintf(&b, "In flight: one worker with NOTIFICATIONS_MAX_CONCURRENT=%d holding %d requests at a receiver that does not answer yet: **%s MiB resident, %s MiB peak**.\n\n",
			r.InFlight.Deliveries, r.InFlight.Held, mib(r.InFlight.RSS), mib(r.InFlight.PeakRSS))
	}
	if r.NATSPeakRSS > 0 {
		fmt.Fprintf(&b, "The embedded NATS server peaked at %s MiB resident over the whole benchmark.\n\n", mib(r.NATSPeakRSS))
	}
	b.WriteString(r.targets())
	return b.String()
}

// runsTable renders the pipeline runs, then each run's CPU time per process.
func runsTable(runs []Run) string {
	var b strings.Builder
	b.WriteString("| workers | fan-out | deliveries/s | ÷ baseline | events/s | p50 / p95 / p99 ms at 1,000 ev/s | p50 / p95 / p99 ms at saturation | Herald CPU s / 1k | machine CPU s / 1k | CPU busy | peak RSS MiB (dispatcher / worker) | ledger rows/s |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|---:|\n")
	for _, run := range runs {
		paced := "—"
		if run.Paced != nil {
			paced = lat(run.Paced.Latency)
		}
		var disp, worker int64
		for _, p := range run.Processes {
			switch p.Name {
			case "dispatcher":
				disp = p.PeakRSS
			case "nats", "harness":
			default:
				worker = max(worker, p.PeakRSS)
			}
		}
		fmt.Fprintf(&b, "| %d | %d | %.0f | %.3f | %.0f | %s | %s | %.3f | %.3f | %.0f%% | %s / %s | %.0f |\n",
			run.Workers, run.Fanout, run.DeliveriesPerSecond, run.Ratio, run.EventsPerSecond, paced, lat(run.Saturation),
			run.HeraldCPUPer1k, run.MachineCPUPer1k, 100*run.CPUBusy, mib(disp), mib(worker), run.LedgerRowsPerSecond)
	}
	b.WriteString("\nCPU milliseconds per delivery, by process, at saturation (harness: the publisher and the receiver):\n\n")
	b.WriteString("| workers | fan-out | dispatcher | workers | NATS | harness |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range runs {
		if run.Deliveries == 0 {
			continue
		}
		per := map[string]float64{}
		for _, p := range run.Processes {
			name := p.Name
			if strings.HasPrefix(name, "worker-") {
				name = "workers"
			}
			per[name] += p.CPUSeconds * 1000 / float64(run.Deliveries)
		}
		fmt.Fprintf(&b, "| %d | %d | %.3f | %.3f | %.3f | %.3f |\n", run.Workers, run.Fanout, per["dispatcher"], per["workers"], per["nats"], per["harness"])
	}
	b.WriteString("\n")
	return b.String()
}

// targets checks the targets against the results.
func (r *Results) targets() string {
	find := func(fanout, workers int) *Run {
		for i := range r.Runs {
			if r.Runs[i].Fanout == fanout && r.Runs[i].Workers == workers {
				return &r.Runs[i]
			}
		}
		return nil
	}
	var b strings.Builder
	b.WriteString("| target | measured | |\n|---|---|---|\n")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	best := func(fanout int) *Run {
		var out *Run
		for i := range r.Runs {
			if r.Runs[i].Fanout == fanout && (out == nil || r.Runs[i].DeliveriesPerSecond > out.DeliveriesPerSecond) {
				out = &r.Runs[i]
			}
		}
		return out
	}
	if f1 := best(1); f1 != nil {
		fmt.Fprintf(&b, "| fan-out 1 ≥ 15%% of baseline | %.1f%% (%d worker(s)) | %s |\n", 100*f1.Ratio, f1.Workers, verdict(f1.Ratio >= 0.15))
		if f10 := best(10); f10 != nil {
			x := f10.DeliveriesPerSecond / f1.DeliveriesPerSecond
			fmt.Fprintf(&b, "| fan-out 10 ≥ 1.5 × fan-out 1 deliveries/s | %.3f × | %s |\n", x, verdict(x >= 1.5))
		}
	}
	for _, w := range []int{1, 3} {
		if run := find(1, w); run != nil && run.Paced != nil {
			fmt.Fprintf(&b, "| p99 < 50 ms at 1,000 ev/s (%d worker(s)) | %.1f ms | %s |\n", w, run.Paced.Latency.P99, verdict(run.Paced.Latency.P99 < 50))
		}
	}
	if r.Ledger.Results > 0 {
		fmt.Fprintf(&b, "| ledger ≥ 20,000 rows/s | %.0f rows/s | %s |\n", r.Ledger.RowsPerSecond, verdict(r.Ledger.RowsPerSecond >= 20000))
	}
	if r.InFlight.Deliveries > 0 {
		fmt.Fprintf(&b, "| worker < 64 MiB with %d in flight | %.1f MiB peak | %s |\n", r.InFlight.Deliveries, float64(r.InFlight.PeakRSS)/(1<<20), verdict(r.InFlight.PeakRSS < 64<<20))
	}
	for _, f := range []int{1, 3, 10} {
		one, three := find(f, 1), find(f, 3)
		if one == nil || three == nil {
			continue
		}
		grows := three.DeliveriesPerSecond > one.DeliveriesPerSecond*1.02
		v := verdict(grows)
		if !grows && one.CPUBusy >= 0.85 {
			// Nothing left to grow into: the machine was busy with one worker already.
			v = "CPU saturated by one worker"
		}
		fmt.Fprintf(&b, "| more workers, more throughput until the CPU saturates (fan-out %d) | 1 → 3 workers: %.0f → %.0f deliveries/s, CPU %.0f%% → %.0f%% busy | %s |\n",
			f, one.DeliveriesPerSecond, three.DeliveriesPerSecond, 100*one.CPUBusy, 100*three.CPUBusy, v)
	}
	return b.String()
}

// Write writes results.md and results.json into dir.
func (r *Results) Write(dir, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644)
}
