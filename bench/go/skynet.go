// SPDX-License-Identifier: MIT
//
// bench/go/skynet.go: the Go peer of bench/skynet.c: the skynet benchmark
// as its README has it for Go, one goroutine per node of a 10-ary tree and
// an unbuffered channel per parent: 1,000,000 leaves, 1,111,111
// goroutines (10,000 and 11,111 with -quick); the root sum must be
// leaves*(leaves-1)/2 (499999500000). Prints "skynet <ms> ms" and
// "skynet_rss <MB> MB" (peak RSS, VmHWM from /proc/self/status).
//
// Every run, the warm-up too, is a fresh process (this program run again
// with -child), as bench/skynet.c forks one, so that each peak RSS is that
// run's own. Standard library only; build with
// GO111MODULE=off go build skynet.go common.go.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// peakRSSMB returns VmHWM from /proc/self/status in MB.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				fail("bad VmHWM line %q", s.Text())
			}
			return kb / 1024
		}
	}
	fail("no VmHWM in /proc/self/status")
	return 0
}

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*(size/div), size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

// once runs one tree and prints "ms MB sum".
func once(leaves int) {
	expect := leaves * (leaves - 1) / 2
	c := make(chan int)
	t0 := time.Now()
	go skynet(c, 0, leaves, 10)
	sum := <-c
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	fmt.Printf("%f %f %d\n", ms, peakRSSMB(), sum)
	if sum != expect {
		fail("root sum %d, expected %d", sum, expect)
	}
}

func main() {
	flag.Parse()
	leaves := size(1000000, 10000)
	if *child {
		once(leaves)
		return
	}
	v := isolated(3)
	fmt.Printf("# skynet (go): %d goroutines, root sum %.0f (expected %d)\n",
		(leaves*10-1)/9, v[2], leaves*(leaves-1)/2)
	report("skynet", v[0], "ms")
	report("skynet_rss", v[1], "MB")
}
