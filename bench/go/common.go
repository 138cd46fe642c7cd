// SPDX-License-Identifier: MIT
//
// bench/go/common.go: what every Go peer program shares: the flags, the
// -quick sizes, the median of timed runs (in process, or each run in a
// fresh child process for memory figures), and the one output line
// "<name> <value> <unit>" that bench/run.sh reads. bench/run.sh builds
// each program together with this file:
// GO111MODULE=off go build -o <out> <program>.go common.go
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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

// timedRuns is how many timed runs a figure takes.
func timedRuns() int {
	if *runs > 0 {
		return *runs
	}
	return size(5, 1)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// measure runs fn once as a warm-up, then the timed runs, and returns the
// median of what they measured.
func measure(fn func() float64) float64 {
	fn()
	v := make([]float64, timedRuns())
	for i := range v {
		v[i] = fn()
	}
	return median(v)
}

func report(name string, value float64, unit string) {
	fmt.Printf("%s %.4f %s\n", name, value, unit)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, filepath.Base(os.Args[0])+": "+format+"\n", args...)
	os.Exit(1)
}

// isolated runs this program again with -child, once as a warm-up and
// then for each timed run, and returns the median of each value the
// children print (one line of space-separated numbers each).
func isolated(nvals int) []float64 {
	exe, err := os.Executable()
	if err != nil {
		fail("%v", err)
	}
	cols := make([][]float64, nvals)
	for r := 0; r <= timedRuns(); r++ {
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
