// SPDX-License-Identifier: MIT
//
// bench/go/actor_pingpong.go: the Go peer of bench/actor_pingpong.c: ns
// per round trip between two goroutines over two unbuffered channels,
// GOMAXPROCS left at its default. The server sends balls 1..N and checks
// each comes back in order; the main goroutine only starts both and waits.
// Prints "actor_pingpong <ns> ns". Standard library only; build with
// GO111MODULE=off go build actor_pingpong.go common.go.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

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
