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
// GO111MODULE=off go build idle_actor.go common.go.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

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
