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

	closeOnce sync.Once
	closeErr  error
}

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
		Sim: s,
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second},
		ln:  ln,
		err: make(chan error, 1),
	}
	go func() {
		err := srv.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		srv.err <- err
	}()
	return srv, nil
}

// Close stops the server and the simulator's background actors. Calling it
// again returns the first call's result.
func (srv *Server) Close() error {
	srv.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.srv.Shutdown(ctx)
		srv.Sim.Close()
		if serr := <-srv.err; err == nil {
			err = serr
		}
		srv.closeErr = err
	})
	return srv.closeErr
}
