package trailtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// DefaultRegions are the regions enabled in every account.
var DefaultRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// Regions answers DescribeRegions for an account with the DefaultRegions
// enabled, OptedIn regions enabled by opt-in, and NotOptedIn regions listed
// only with AllRegions, as EC2 does.
type Regions struct {
	OptedIn    []string
	NotOptedIn []string
	Err        error // returned instead of the list when set
}

// DescribeRegions implements the EC2 call.
func (r Regions) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &ec2.DescribeRegionsOutput{}
	add := func(names []string, status string) {
		for _, n := range names {
			out.Regions = append(out.Regions, ec2types.Region{RegionName: aws.String(n), OptInStatus: aws.String(status),
				Endpoint: aws.String("ec2." + n + ".amazonaws.com")})
		}
	}
	add(DefaultRegions, "opt-in-not-required")
	add(r.OptedIn, "opted-in")
	if aws.ToBool(in.AllRegions) {
		add(r.NotOptedIn, "not-opted-in")
	}
	return out, nil
}

// S3 is one bucket in memory answering ListObjectsV2 (prefix, delimiter,
// pagination) and GetObject. It counts calls; Fail makes GetObject of the
// named keys fail.
type S3 struct {
	Bucket  string
	MaxKeys int // page size of ListObjectsV2 (default 1000)
	mu      sync.Mutex
	objects map[string][]byte
	lists   int
	gets    int
	Fail    map[string]error
}

// NewS3 returns an empty bucket.
func NewS3(bucket string) *S3 {
	return &S3{Bucket: bucket, objects: map[string][]byte{}, Fail: map[string]error{}}
}

// Put stores an object.
func (s *S3) Put(key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = data
}

// Lists returns how many ListObjectsV2 calls were made.
func (s *S3) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// Gets returns how many GetObject calls were made.
func (s *S3) Gets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

// ListObjectsV2 implements the S3 call.
func (s *S3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if aws.ToString(in.Bucket) != s.Bucket {
		return nil, &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}
	}
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	limit := s.MaxKeys
	if limit <= 0 {
		limit = 1000
	}
	if in.MaxKeys != nil && int(*in.MaxKeys) < limit {
		limit = int(*in.MaxKeys)
	}
	// Entries are keys and common prefixes in key order, as S3 pages them.
	type entry struct {
		name   string
		prefix bool
	}
	var entries []entry
	seen := map[string]bool{}
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if !seen[cp] {
					seen[cp] = true
					entries = append(entries, entry{cp, true})
				}
				continue
			}
		}
		entries = append(entries, entry{k, false})
	}
	after := aws.ToString(in.ContinuationToken)
	out := &s3.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix, Delimiter: in.Delimiter}
	n := 0
	for _, e := range entries {
		if after != "" && e.name <= after {
			continue
		}
		if n == limit {
			out.IsTruncated = aws.Bool(true)
			out.NextContinuationToken = aws.String(after)
			break
		}
		if e.prefix {
			out.CommonPrefixes = append(out.CommonPrefixes, s3types.CommonPrefix{Prefix: aws.String(e.name)})
		} else {
			out.Contents = append(out.Contents, s3types.Object{Key: aws.String(e.name), Size: aws.Int64(int64(len(s.objects[e.name])))})
		}
		after = e.name
		n++
	}
	out.KeyCount = aws.Int32(int32(n))
	return out, nil
}

// GetObject implements the S3 call.
func (s *S3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	key := aws.ToString(in.Key)
	if err := s.Fail[key]; err != nil {
		return nil, err
	}
	data, ok := s.objects[key]
	if !ok || aws.ToString(in.Bucket) != s.Bucket {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: fmt.Sprintf("no object %s", key)}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data)))}, nil
}
