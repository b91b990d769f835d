package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
)

// heapProfileOnSignal writes a heap profile to path every time the
// process gets SIGUSR2, until ctx is done (GOSPAMD_HEAPPROFILE=path, for
// memory work: a daemon's profile after a load, while its engines are
// still live). Next to the profile, path.txt gets a summary of the
// runtime's memory classes (live heap, free heap not yet returned to the
// OS, released, stacks, runtime metadata, GC goal). Profiling samples
// every 4 KiB allocated, which costs some CPU: not for speed runs.
func heapProfileOnSignal(ctx context.Context, path string) {
	// A finer sampling than the default 512 KiB, set before the rules
	// are compiled, so that small compiled structures show.
	runtime.MemProfileRate = 4096
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR2)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				if err := writeHeapProfile(path); err != nil {
					fmt.Fprintf(os.Stderr, "gospamd: %v\n", err)
				}
			}
		}
	}()
}

func writeHeapProfile(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	return os.WriteFile(path+".txt", []byte(memoryClasses()), 0o644)
}

// memoryClasses is runtime/metrics' account of the process's memory, one
// "name bytes" line each.
func memoryClasses() string {
	names := []string{
		"/memory/classes/heap/objects:bytes",
		"/memory/classes/heap/unused:bytes",
		"/memory/classes/heap/free:bytes",
		"/memory/classes/heap/released:bytes",
		"/memory/classes/heap/stacks:bytes",
		"/memory/classes/os-stacks:bytes",
		"/memory/classes/metadata/other:bytes",
		"/memory/classes/metadata/mspan/inuse:bytes",
		"/memory/classes/metadata/mcache/inuse:bytes",
		"/memory/classes/profiling/buckets:bytes",
		"/memory/classes/other:bytes",
		"/memory/classes/total:bytes",
		"/gc/heap/goal:bytes",
		"/gc/heap/live:bytes",
		"/gc/gomemlimit:bytes",
		"/sched/goroutines:goroutines",
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	var s string
	for _, x := range samples {
		if x.Value.Kind() == metrics.KindUint64 {
			s += fmt.Sprintf("%-45s %12d  %7.1f MiB\n", x.Name, x.Value.Uint64(), float64(x.Value.Uint64())/(1<<20))
		}
	}
	return s
}
