// bench.go: the Go 1.19 peer of runtime_bench.cpp, same modes and output format:
//   go <name> <value> <unit>
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func rssBytes() int64 {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	r, _ := strconv.ParseInt(f[1], 10, 64)
	return r * int64(os.Getpagesize())
}

func pingpong(n int) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < 1000; i++ {
		ping <- i
		<-pong
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- 1
		<-pong
	}
	fmt.Printf("go pingpong_roundtrip %.1f ns\n", float64(time.Since(t0).Nanoseconds())/float64(n))
	close(ping)
}

func spawn(n int) {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	fmt.Printf("go spawn_finish %.1f ns\n", float64(time.Since(t0).Nanoseconds())/float64(n))
}

func rss(n int) {
	gate := make(chan int)
	var started sync.WaitGroup
	started.Add(n)
	before := rssBytes()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
		}()
	}
	started.Wait()
	after := rssBytes()
	fmt.Printf("go rss_per_parked_task %.0f bytes\n", float64(after-before)/float64(n))
	close(gate)
}

//go:noinline
func deep(depth int, gate chan int, started *sync.WaitGroup) {
	if depth <= 1 {
		started.Done()
		<-gate
		return
	}
	deep(depth-1, gate, started)
}

func dump(n, depth int) {
	gate := make(chan int)
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		go deep(depth, gate, &started)
	}
	started.Wait()
	buf := make([]byte, 1<<30)
	runtime.Stack(buf, true) // warm
	t0 := time.Now()
	k := runtime.Stack(buf, true)
	fmt.Printf("go dump_all_tasks %.1f ms (%d bytes)\n", float64(time.Since(t0).Microseconds())/1000, k)
	close(gate)
}

func main() {
	mode := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	depth := 16
	if len(os.Args) > 3 {
		depth, _ = strconv.Atoi(os.Args[3])
	}
	switch mode {
	case "pingpong":
		pingpong(n)
	case "spawn":
		spawn(n)
	case "rss":
		rss(n)
	case "dump":
		dump(n, depth)
	}
}
