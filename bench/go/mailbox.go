// SPDX-License-Identifier: MIT
//
// bench/go/mailbox.go: the Go peer of bench/mailbox.c: single-goroutine
// channel costs, in ns per operation (send included), every received value
// checked. Prints one "name value unit" line per figure; bench/run.sh
// hands them to the C program. Standard library only; build with
// GO111MODULE=off go build mailbox.go common.go.
//
//	mailbox_sendrecv  send then receive on a chan of capacity 16
//	select2_ready     a 2-case select, one case made ready (at random)
//	fanin256          reflect.Select over 256 channels, one ready at random
//	select256         the same figure, the peer of spry_select over 256
package main

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"time"
)

const (
	sources  = 256 // fan-in width
	capacity = 16  // every channel, as spry's default mailbox
	seed     = 88172645463325252
)

// verdict returns ns per operation, or exits when results were wrong.
func verdict(name string, t0 time.Time, iters, bad int) float64 {
	ns := float64(time.Since(t0).Nanoseconds()) / float64(iters)
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "%s: %d of %d operations went wrong\n",
			name, bad, iters)
		os.Exit(1)
	}
	return ns
}

// xrand is xorshift64, the generator bench/mailbox.c uses too.
func xrand(x *uint64) uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return *x >> 24
}

func sendRecv(iters int) float64 {
	ch := make(chan uintptr, capacity)
	bad := 0
	t0 := time.Now()
	for i := uintptr(1); i <= uintptr(iters); i++ {
		ch <- i
		if <-ch != i {
			bad++
		}
	}
	return verdict("mailbox_sendrecv", t0, iters, bad)
}

func select2(iters int) float64 {
	c := [2]chan uintptr{
		make(chan uintptr, capacity), make(chan uintptr, capacity),
	}
	x := uint64(seed)
	bad := 0
	t0 := time.Now()
	for i := uintptr(1); i <= uintptr(iters); i++ {
		src := int(xrand(&x) % 2)
		c[src] <- i
		var got uintptr
		chosen := -1
		select {
		case got = <-c[0]:
			chosen = 0
		case got = <-c[1]:
			chosen = 1
		}
		if chosen != src || got != i {
			bad++
		}
	}
	return verdict("select2_ready", t0, iters, bad)
}

func reflectSelect(iters int) float64 {
	chs := make([]chan uintptr, sources)
	cases := make([]reflect.SelectCase, sources)
	for i := range chs {
		chs[i] = make(chan uintptr, capacity)
		cases[i] = reflect.SelectCase{
			Dir: reflect.SelectRecv, Chan: reflect.ValueOf(chs[i]),
		}
	}
	x := uint64(seed)
	bad := 0
	t0 := time.Now()
	for i := uintptr(1); i <= uintptr(iters); i++ {
		src := int(xrand(&x) % sources)
		chs[src] <- i
		chosen, v, ok := reflect.Select(cases)
		if !ok || chosen != src || uintptr(v.Uint()) != i {
			bad++
		}
	}
	return verdict("fanin256", t0, iters, bad)
}

func main() {
	flag.Parse()
	report("mailbox_sendrecv", measure(func() float64 {
		return sendRecv(size(10000000, 1000000))
	}), "ns")
	report("select2_ready", measure(func() float64 {
		return select2(size(10000000, 1000000))
	}), "ns")
	rs := measure(func() float64 {
		return reflectSelect(size(20000, 2000))
	})
	report("fanin256", rs, "ns")
	report("select256", rs, "ns")
}
