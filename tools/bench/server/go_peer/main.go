// go_peer: the Go standard library's answer to the same question, for metrics_load.sh to measure
// beside leakwatch's /metrics: net/http serving expvar's /debug/vars (runtime.ReadMemStats and
// the command line as JSON) on 127.0.0.1. Usage: go_peer PORT
package main

import (
	_ "expvar"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("go_peer: ready on http://%s\n", ln.Addr())
	http.Serve(ln, nil)
}
