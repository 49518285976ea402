package awssim

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unusedConns is how many connections the server holds that no request has
// been read from.
func unusedConns(srv *Server) int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.unused)
}

// TestCloseClosesUnusedConnections: a client that dialled and never sent a
// request (the SDK's transport parks such connections) must not hold Close
// up; http.Server.Shutdown alone waits for it and then fails.
func TestCloseClosesUnusedConnections(t *testing.T) {
	srv, err := Start(New(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for unusedConns(srv) == 0 { // accepted
		runtime.Gosched()
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("unused connection still open after Close: read %d bytes", n)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseLetsRequestsFinish: a request being answered when Close starts
// still gets its answer.
func TestCloseLetsRequestsFinish(t *testing.T) {
	s := New(WithFaults(Faults{Latency: 200 * time.Millisecond}))
	if err := s.AddUser("u", time.Now()); err != nil {
		t.Fatal(err)
	}
	k, err := s.AddAccessKey("u", time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for unusedConns(srv) == 0 { // accepted
		runtime.Gosched()
	}
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req := "POST / HTTP/1.1\r\nHost: sim\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + k.AccessKeyID + "/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	for unusedConns(srv) > 0 { // the server has begun reading the request
		runtime.Gosched()
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request in flight at Close: %v", err)
	}
	resp.Body.Close()
	// The request's signature is deliberately not valid: the simulator
	// answers it as AWS does (403, SignatureDoesNotMatch). What matters
	// here is that a whole answer arrives although Close began.
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("request in flight at Close: status %d, want AWS's refusal of the bad signature", resp.StatusCode)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}
