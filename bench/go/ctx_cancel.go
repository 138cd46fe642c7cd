// SPDX-License-Identifier: MIT
//
// bench/go/ctx_cancel.go: the Go peer of bench/ctx_cancel.c: ns per
// context.WithCancel(parent) + cancel(), the parent itself a cancelCtx
// (not Background), so each child registers with it and leaves again.
// Prints "ctx_cancel <ns> ns". Standard library only; build with
// GO111MODULE=off go build ctx_cancel.go.
//
// The helpers (measure, report) are repeated in each bench/go program so
// that every program stays one standalone file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"
)

var (
	quick = flag.Bool("quick", false, "small sizes and one run (CI smoke test)")
	runs  = flag.Int("runs", 0, "timed runs per figure (default 5; 1 with -quick)")
)

// size picks the full or the -quick size of a parameter.
func size(full, small int) int {
	if *quick {
		return small
	}
	return full
}

// measure runs fn once as a warm-up, then the timed runs, and returns the
// median of what they measured.
func measure(fn func() float64) float64 {
	n := *runs
	if n <= 0 {
		n = size(5, 1)
	}
	fn()
	v := make([]float64, n)
	for i := range v {
		v[i] = fn()
	}
	sort.Float64s(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func report(name string, value float64, unit string) {
	fmt.Printf("%s %.4f %s\n", name, value, unit)
}

func cancelRun(parent context.Context, iters int) float64 {
	var childErr error
	t0 := time.Now()
	for i := 0; i < iters; i++ {
		c, cancel := context.WithCancel(parent)
		cancel()
		if i+1 == iters {
			childErr = c.Err()
		}
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(iters)
	if childErr != context.Canceled || parent.Err() != nil {
		fmt.Fprintf(os.Stderr, "ctx_cancel: child err %v, parent err %v\n",
			childErr, parent.Err())
		os.Exit(1)
	}
	return ns
}

func main() {
	flag.Parse()
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	iters := size(2000000, 200000)
	report("ctx_cancel", measure(func() float64 {
		return cancelRun(parent, iters)
	}), "ns")
}
