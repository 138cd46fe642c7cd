// SPDX-License-Identifier: MIT
//
// bench/go/ctx_cancel.go: the Go peer of bench/ctx_cancel.c: ns per
// context.WithCancel(parent) + cancel(), the parent itself a cancelCtx
// (not Background), so each child registers with it and leaves again.
// Prints "ctx_cancel <ns> ns". Standard library only; build with
// GO111MODULE=off go build ctx_cancel.go common.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

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
