package awssim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a running simulator on a loopback address.
type Server struct {
	Sim *Sim
	URL string // http://127.0.0.1:PORT
	srv *http.Server
	ln  net.Listener
	err chan error

	mu      sync.Mutex
	unused  map[net.Conn]struct{} // connections no request has been read from yet
	closing bool                  // Shutdown has begun: unused connections are closed at once

	closeOnce sync.Once
	closeErr  error
}

// closeGrace bounds how long Close waits for requests being answered (a
// latency fault can hold one) before it cuts them off.
const closeGrace = 5 * time.Second

// Start listens on addr (host:port; use 127.0.0.1:0 for any free port) and
// serves the simulator until Close. Only loopback addresses are accepted: the
// simulator is never meant to be reachable from elsewhere.
func Start(s *Sim, addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parse address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("address %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &Server{
		Sim:    s,
		URL:    "http://" + ln.Addr().String(),
		ln:     ln,
		err:    make(chan error, 1),
		unused: map[net.Conn]struct{}{},
	}
	srv.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         srv.trackUnused,
	}
	srv.srv.RegisterOnShutdown(srv.closeUnused)
	go func() {
		err := srv.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		srv.err <- err
	}()
	return srv, nil
}

// Close stops the server and the simulator's background actors. Requests
// being answered are let finish, for up to closeGrace, then cut off; when
// Close returns, no connection is left open. Calling it again returns the
// first call's result.
func (srv *Server) Close() error {
	srv.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		err := srv.srv.Shutdown(ctx)
		if err != nil {
			// Cut what is still running; the error says it happened.
			_ = srv.srv.Close()
			err = fmt.Errorf("close simulator: requests still running after %v were cut off: %w", closeGrace, err)
		}
		srv.Sim.Close()
		if serr := <-srv.err; err == nil {
			err = serr
		}
		srv.closeErr = err
	})
	return srv.closeErr
}

// trackUnused keeps the set of connections no request has been read from.
// An SDK client's transport dials ahead and often parks a connection it
// never uses; http.Server.Shutdown counts such a connection as busy until it
// is 5 s old, which made every Close wait that long.
func (srv *Server) trackUnused(c net.Conn, st http.ConnState) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch {
	case st == http.StateNew && srv.closing:
		_ = c.Close() // accepted just before the listener closed
	case st == http.StateNew:
		srv.unused[c] = struct{}{}
	default:
		delete(srv.unused, c)
	}
}

// closeUnused closes the connections no request has been read from, and
// those accepted from now on. Shutdown calls it once its listener is closed.
// A connection that has started a request is no longer in the set: Shutdown
// lets its request finish.
func (srv *Server) closeUnused() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closing = true
	for c := range srv.unused {
		_ = c.Close()
		delete(srv.unused, c)
	}
}
