package awsapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BufferBodies wraps an SDK HTTP client so that request bodies are sent from
// memory. It works around a race between net/http and smithy-go that a fast
// server (the simulator, moto, any endpoint on loopback) wins often enough
// to matter: after writing a body of known length, net/http reads it once
// more to check for extra bytes; if the answer has already arrived, the SDK
// has closed the body, smithy-go's closed body fails that read, and net/http
// takes it for a write failure and closes the connection while the SDK is
// still reading the response ("use of closed network connection"). A
// bytes.Reader that closing does not affect is immune. Bodies of the calls
// keyleak makes are small (query forms, JSON documents), so buffering costs
// nothing that matters.
func BufferBodies(next aws.HTTPClient) aws.HTTPClient {
	if next == nil {
		next = http.DefaultClient
	}
	return bufferedClient{next: next}
}

type bufferedClient struct{ next aws.HTTPClient }

func (c bufferedClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("buffer request body: %w", err)
	}
	if err := r.Body.Close(); err != nil {
		return nil, fmt.Errorf("buffer request body: %w", err)
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r2.ContentLength = int64(len(b))
	return c.next.Do(r2)
}
