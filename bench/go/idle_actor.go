// SPDX-License-Identifier: MIT
//
// bench/go/idle_actor.go: the Go peer of bench/idle_actor.c: the resident
// memory an idle goroutine costs. Reads the RSS from /proc/self/statm,
// starts 100,000 goroutines (10,000 with -quick) that each check in and
// then block on a channel, waits until all have checked in, reads the RSS
// again and prints "idle_actor_bytes <growth per goroutine> bytes"; then
// closes the channel to end them.
//
// Every run, the warm-up too, is a fresh process (this program run again
// with -child), as bench/idle_actor.c forks one: memory freed by an
// earlier run would hide the cost. Standard library only; build with
// GO111MODULE=off go build idle_actor.go.
//
// The helpers (median, report, isolated) are repeated in each bench/go
// program so that every program stays one standalone file.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

var (
	quick = flag.Bool("quick", false, "small sizes and one run (CI smoke test)")
	runs  = flag.Int("runs", 0, "timed runs per figure (default 5; 1 with -quick)")
	child = flag.Bool("child", false, "run once and print the raw values (internal)")
)

// size picks the full or the -quick size of a parameter.
func size(full, small int) int {
	if *quick {
		return small
	}
	return full
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func report(name string, value float64, unit string) {
	fmt.Printf("%s %.4f %s\n", name, value, unit)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "idle_actor: "+format+"\n", args...)
	os.Exit(1)
}

// isolated runs this program again with -child, once as a warm-up and
// then for each timed run, and returns the median of each value the
// children print (one line of space-separated numbers each).
func isolated(nvals int) []float64 {
	n := *runs
	if n <= 0 {
		n = size(5, 1)
	}
	exe, err := os.Executable()
	if err != nil {
		fail("%v", err)
	}
	cols := make([][]float64, nvals)
	for r := 0; r <= n; r++ {
		cmd := exec.Command(exe, "-child", "-quick="+strconv.FormatBool(*quick))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fail("run failed: %v", err)
		}
		f := strings.Fields(string(out))
		if len(f) != nvals {
			fail("run printed %q", out)
		}
		for k := 0; k < nvals && r > 0; k++ {
			v, err := strconv.ParseFloat(f[k], 64)
			if err != nil {
				fail("run printed %q", out)
			}
			cols[k] = append(cols[k], v)
		}
	}
	med := make([]float64, nvals)
	for k := range cols {
		med[k] = median(cols[k])
	}
	return med
}

// rssBytes returns the resident set now, from /proc/self/statm.
func rssBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fail("%v", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		fail("bad /proc/self/statm %q", b)
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		fail("bad /proc/self/statm %q", b)
	}
	return pages * float64(os.Getpagesize())
}

// once measures one batch of idle goroutines and prints bytes each.
func once(count int) {
	stop := make(chan struct{})
	var started sync.WaitGroup
	runtime.GC()
	before := rssBytes()
	started.Add(count)
	for i := 0; i < count; i++ {
		go func() {
			started.Done()
			<-stop
		}()
	}
	started.Wait()
	fmt.Printf("%f\n", (rssBytes()-before)/float64(count))
	close(stop)
}

func main() {
	flag.Parse()
	count := size(100000, 10000)
	if *child {
		once(count)
		return
	}
	report("idle_actor_bytes", isolated(1)[0], "bytes")
}
