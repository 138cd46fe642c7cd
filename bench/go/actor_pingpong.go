// SPDX-License-Identifier: MIT
//
// bench/go/actor_pingpong.go: the Go peer of bench/actor_pingpong.c: ns
// per round trip between two goroutines over two unbuffered channels,
// GOMAXPROCS left at its default. The server sends balls 1..N and checks
// each comes back in order; the main goroutine only starts both and waits.
// Prints "actor_pingpong <ns> ns". Standard library only; build with
// GO111MODULE=off go build actor_pingpong.go.
//
// The helpers (measure, report) are repeated in each bench/go program so
// that every program stays one standalone file.
package main

import (
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

func pingpong(rounds int) float64 {
	ping, pong := make(chan int), make(chan int)
	done := make(chan int)
	t0 := time.Now()
	go func() { // echo
		for v := range ping {
			pong <- v
		}
	}()
	go func() { // server
		bad := 0
		for i := 1; i <= rounds; i++ {
			ping <- i
			if <-pong != i {
				bad++
			}
		}
		close(ping)
		done <- bad
	}()
	bad := <-done
	ns := float64(time.Since(t0).Nanoseconds()) / float64(rounds)
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "actor_pingpong: %d balls out of order\n", bad)
		os.Exit(1)
	}
	return ns
}

func main() {
	flag.Parse()
	rounds := size(1000000, 100000)
	report("actor_pingpong", measure(func() float64 {
		return pingpong(rounds)
	}), "ns")
}
