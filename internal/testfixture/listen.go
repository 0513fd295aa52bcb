package testfixture

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// freeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment ago, for a server
// the test starts.
func freeLoopbackPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something accepts connections at network/addr.
func waitListening(network, addr string, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens at %s %s after %s: %w", network, addr, timeout, err)
		}
	}
}
