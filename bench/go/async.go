// SPDX-License-Identifier: MIT
//
// bench/go/async.go: the Go peer of bench/async.c: buffered channel send
// and receive, and reflect.Select over N channels, in ns per operation,
// measured the way bench/async.c measures spry (see its top comment):
// short batches timed back to back, the median batch of a run, the median
// of the runs. Messages are []byte, as the seed PRD's SendChan/RecvChan;
// each carries a sequence number, checked. Prints one "name value unit"
// line per figure; bench/run.sh hands them to the C program. Standard
// library only; build with GO111MODULE=off go build async.go common.go.
//
//	async_send      one send on a socket's SendChan as the seed PRD
//	                builds it: a chan []byte of capacity 256 that the
//	                seed's sendPump goroutine drains into the protocol,
//	                here a second chan of capacity 256 (the in-process
//	                peer, as spry's inproc PULL socket's recvbox) that a
//	                goroutine drains; in bursts of 128 that are sure to
//	                find room
//	async_recv      one receive on a socket's RecvChan: a goroutine feeds
//	                the protocol chan, the seed's recvPump forwards into
//	                the RecvChan; in bursts of 128 that are sure to find
//	                messages
//	async_send_chan, async_recv_chan
//	                the same on a bare chan, with nothing between the
//	                measured end and the goroutine at the other end
//	async_cas       one atomic.CompareAndSwapUint64 on a word only the
//	                measuring goroutine touches
//	async_select<N> send on one of N channels (at random), then
//	                reflect.Select over all N, N = 1, 16, 256 (as
//	                bench/go/mailbox.go's fanin256, per batch here)
//	async_fanin<N>  the same figure, the peer of spry's fan-in
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sync/atomic"
	"time"
)

const (
	capacity = 256 // the channel's buffer, as bench/async.c's AS_CAP
	burst    = 128 // operations per timed burst, as AS_BURST
	seed     = 88172645463325252
)

// xrand is xorshift64, the generator bench/async.c uses too.
func xrand(x *uint64) uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return *x >> 24
}

func msgOf(seq uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, seq)
	return b
}

func isSeq(b []byte, seq uint32) bool {
	return len(b) == 4 && binary.BigEndian.Uint32(b) == seq
}

func verdict(name string, bad, n int) {
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "%s: %d of %d messages went wrong\n",
			name, bad, n)
		os.Exit(1)
	}
}

func perOp(t0 time.Time, ops int) float64 {
	return float64(time.Since(t0).Nanoseconds()) / float64(ops)
}

// sendPump is the seed PRD's: it hands what comes on the SendChan to the
// protocol (here a send on the peer's chan) until ctx is done.
func sendPump(ctx context.Context, sendChan <-chan []byte, peer chan<- []byte) {
	for {
		select {
		case m := <-sendChan:
			peer <- m
		case <-ctx.Done():
			return
		}
	}
}

// recvPump is the seed PRD's: it takes from the protocol (a receive on
// the peer's chan, which the peer closes when done) and hands it to the
// RecvChan.
func recvPump(ctx context.Context, peer <-chan []byte, recvChan chan<- []byte) {
	for {
		m, ok := <-peer
		if !ok {
			return
		}
		select {
		case recvChan <- m:
		case <-ctx.Done():
			return
		}
	}
}

// chans returns the chan a run measures and the one its other goroutine
// uses: the same bare chan, or two joined by the seed's pump, as its
// Socket joins a SendChan or a RecvChan to the protocol. stop ends the
// pump.
func chans(bare, send bool) (measured, other chan []byte, stop func()) {
	measured = make(chan []byte, capacity)
	if bare {
		return measured, measured, func() {}
	}
	other = make(chan []byte, capacity)
	ctx, cancel := context.WithCancel(context.Background())
	if send {
		go sendPump(ctx, measured, other)
	} else {
		go recvPump(ctx, other, measured)
	}
	return measured, other, cancel
}

func sendRun(bursts int, bare bool) float64 {
	ch, peer, stop := chans(bare, true)
	defer stop()
	n := bursts * burst
	done := make(chan int)
	go func() {
		bad := 0
		for i := 1; i <= n; i++ {
			if !isSeq(<-peer, uint32(i)) {
				bad++
			}
		}
		done <- bad
	}()
	ns := make([]float64, bursts)
	msgs := make([][]byte, burst)
	for k := range ns {
		for j := range msgs {
			msgs[j] = msgOf(uint32(k*burst + j + 1))
		}
		// Only the other goroutines receive: room only grows.
		for len(ch) > capacity-burst {
			runtime.Gosched()
		}
		t0 := time.Now()
		for _, m := range msgs {
			ch <- m
		}
		ns[k] = perOp(t0, burst)
	}
	verdict("async_send", <-done, n)
	return median(ns)
}

func recvRun(bursts int, bare bool) float64 {
	ch, feed, stop := chans(bare, false)
	defer stop()
	n := bursts * burst
	go func() {
		for i := 1; i <= n; i++ {
			feed <- msgOf(uint32(i))
		}
		close(feed) // the protocol is done: the pump ends
	}()
	ns := make([]float64, bursts)
	msgs := make([][]byte, burst)
	bad := 0
	for k := range ns {
		// Only we receive: what we saw stays.
		for len(ch) < burst {
			runtime.Gosched()
		}
		t0 := time.Now()
		for j := range msgs {
			msgs[j] = <-ch
		}
		ns[k] = perOp(t0, burst)
		for j, m := range msgs {
			if !isSeq(m, uint32(k*burst+j+1)) {
				bad++
			}
		}
	}
	verdict("async_recv", bad, n)
	return median(ns)
}

// casRun times batches of compare-and-swaps on a private word.
func casRun(batches int) float64 {
	const batch = 1024 // as bench/async.c's AS_FLOW_BATCH
	var word uint64
	ns := make([]float64, batches)
	for k := range ns {
		t0 := time.Now()
		for j := 0; j < batch; j++ {
			seen := atomic.LoadUint64(&word)
			atomic.CompareAndSwapUint64(&word, seen, seen+1)
		}
		ns[k] = perOp(t0, batch)
	}
	if word != uint64(batches*batch) {
		verdict("async_cas", 1, batches*batch)
	}
	return median(ns)
}

// selectRun: batches of `batch` messages, each sent on one of n channels
// chosen at random and taken with reflect.Select over all n.
func selectRun(n, batches, batch int) float64 {
	chs := make([]chan []byte, n)
	cases := make([]reflect.SelectCase, n)
	for i := range chs {
		chs[i] = make(chan []byte, 16) // spry's default depth
		cases[i] = reflect.SelectCase{
			Dir: reflect.SelectRecv, Chan: reflect.ValueOf(chs[i]),
		}
	}
	x := uint64(seed)
	seq := uint32(0)
	bad := 0
	ns := make([]float64, batches)
	for k := range ns {
		t0 := time.Now()
		for j := 0; j < batch; j++ {
			src := int(xrand(&x) % uint64(n))
			seq++
			chs[src] <- msgOf(seq)
			chosen, v, ok := reflect.Select(cases)
			if !ok || chosen != src || !isSeq(v.Bytes(), seq) {
				bad++
			}
		}
		ns[k] = perOp(t0, batch)
	}
	verdict(fmt.Sprintf("async_select%d", n), bad, batches*batch)
	return median(ns)
}

func main() {
	flag.Parse()
	for _, bare := range []bool{false, true} {
		suffix := ""
		if bare {
			suffix = "_chan"
		}
		report("async_send"+suffix, measure(func() float64 {
			return sendRun(size(4000, 400), bare)
		}), "ns")
		report("async_recv"+suffix, measure(func() float64 {
			return recvRun(size(4000, 400), bare)
		}), "ns")
	}
	report("async_cas", measure(func() float64 {
		return casRun(size(1000, 100))
	}), "ns")
	// Run sizes as bench/async.c's widths[]: fewer, shorter batches
	// when wide (reflect.Select takes tens of microseconds there).
	widths := []struct{ n, batch, batches, quick int }{
		{1, 256, 4000, 400},
		{16, 256, 1000, 100},
		{256, 32, 500, 50},
	}
	for _, w := range widths {
		rs := measure(func() float64 {
			return selectRun(w.n, size(w.batches, w.quick), w.batch)
		})
		report(fmt.Sprintf("async_select%d", w.n), rs, "ns")
		report(fmt.Sprintf("async_fanin%d", w.n), rs, "ns")
	}
}
