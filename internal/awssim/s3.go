package awssim

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

// S3, as far as a bucket made public goes: buckets, their policies, the
// policy's public status and the bucket's Block Public Access settings
// (REST XML, path-style). Objects are not kept. The ACL calls are not
// served: scenarios record GetBucketAcl only.

const (
	typeBucket       = "AWS::S3::Bucket"
	typeBucketPublic = "AWS::S3::BucketPublic"
)

func s3Ops() map[string]handler {
	return map[string]handler{
		"CreateBucket":            s3CreateBucket,
		"HeadBucket":              s3HeadBucket,
		"PutBucketPolicy":         s3PutBucketPolicy,
		"GetBucketPolicy":         s3GetBucketPolicy,
		"DeleteBucketPolicy":      s3DeleteBucketPolicy,
		"GetBucketPolicyStatus":   s3GetBucketPolicyStatus,
		"PutPublicAccessBlock":    s3PutPublicAccessBlock,
		"GetPublicAccessBlock":    s3GetPublicAccessBlock,
		"DeletePublicAccessBlock": s3DeletePublicAccessBlock,
	}
}

// s3Route names the action of a path-style S3 request: the bucket is the
// path's first segment, the subresource a query key.
func s3Route(method, path string, query map[string][]string) (string, string, bool) {
	bucket, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if bucket == "" || rest != "" {
		return "", "", false
	}
	sub := ""
	for _, k := range []string{"policy", "policyStatus", "publicAccessBlock"} {
		if _, ok := query[k]; ok {
			sub = k
		}
	}
	action := map[string]string{
		"PUT ": "CreateBucket", "HEAD ": "HeadBucket",
		"PUT policy": "PutBucketPolicy", "GET policy": "GetBucketPolicy", "DELETE policy": "DeleteBucketPolicy",
		"GET policyStatus":      "GetBucketPolicyStatus",
		"PUT publicAccessBlock": "PutPublicAccessBlock", "GET publicAccessBlock": "GetPublicAccessBlock", "DELETE publicAccessBlock": "DeletePublicAccessBlock",
	}[method+" "+sub]
	return action, bucket, action != ""
}

// bucket finds a bucket by name, in whichever region holds it: bucket
// names are global.
func (s *Sim) bucket(name string) (*object, string) {
	for _, r := range s.acct.Regions {
		if o := s.obj(r.Name, typeBucket, name); o != nil {
			return o, r.Name
		}
	}
	return nil, ""
}

func errNoSuchBucket(name string) *APIError {
	return errf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
}

func (s *Sim) s3Bucket(c *Call) (*object, *APIError) {
	o, _ := s.bucket(c.Param("Bucket"))
	if o == nil {
		return nil, errNoSuchBucket(c.Param("Bucket"))
	}
	return o, nil
}

// s3Request is an S3 record's requestParameters: the bucket and the host.
func s3Request(c *Call, extra map[string]any) map[string]any {
	req := map[string]any{"bucketName": c.Param("Bucket"), "Host": c.Param("Bucket") + ".s3." + c.Region + ".amazonaws.com"}
	for k, v := range extra {
		req[k] = v
	}
	return req
}

func s3CreateBucket(s *Sim, c *Call) (*Result, error) {
	name := c.Param("Bucket")
	if len(name) < 3 || len(name) > 63 || strings.ToLower(name) != name {
		return nil, errf(400, "InvalidBucketName", "The specified bucket is not valid.")
	}
	if o, _ := s.bucket(name); o != nil {
		return nil, errf(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	o := s.put(c, typeBucket, name)
	// New buckets block public access, as S3 has made them since 2023.
	o.Attrs["pab"] = map[string]bool{"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}
	return &Result{Request: s3Request(c, nil), Resources: made(o)}, nil
}

func s3HeadBucket(s *Sim, c *Call) (*Result, error) {
	if _, apiErr := s.s3Bucket(c); apiErr != nil {
		return nil, errf(http.StatusNotFound, "NotFound", "Not Found")
	}
	return &Result{Request: s3Request(c, nil)}, nil
}

// publicPolicy tells whether a bucket policy grants anyone access: an
// Allow to Principal "*" (or {"AWS": "*"}) without a condition.
func publicPolicy(doc string) bool {
	var p struct{ Statement []map[string]any }
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	for _, st := range p.Statement {
		if st["Effect"] != "Allow" || st["Condition"] != nil {
			continue
		}
		switch pr := st["Principal"].(type) {
		case string:
			if pr == "*" {
				return true
			}
		case map[string]any:
			if pr["AWS"] == "*" {
				return true
			}
		}
	}
	return false
}

// pab returns a bucket's Block Public Access settings, nil when it has
// none.
func pab(o *object) map[string]bool {
	m, _ := o.Attrs["pab"].(map[string]bool)
	return m
}

// bucketPublic tells whether the bucket is public now: a public policy
// that its Block Public Access settings do not restrict.
func bucketPublic(o *object) bool {
	return publicPolicy(str(o.Attrs, "policy")) && !pab(o)["RestrictPublicBuckets"]
}

// exposure records the bucket's going public (an object of the change's
// type, made by the caller) or its closing (the change undone).
func (s *Sim) exposure(c *Call, o *object, was bool) []EventResource {
	_, region := s.bucket(o.ID)
	now := bucketPublic(o)
	switch {
	case now && !was:
		cc := *c
		cc.Region = region
		return made(s.put(&cc, typeBucketPublic, o.ID))
	case !now && was:
		if ch := s.obj(region, typeBucketPublic, o.ID); ch != nil {
			ch.drop("restored")
		}
	}
	return nil
}

func s3PutBucketPolicy(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	doc := string(c.Body)
	if doc == "" {
		doc = c.Param("Policy")
	}
	var parsed map[string]any
	if json.Unmarshal([]byte(doc), &parsed) != nil {
		return nil, errf(400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	if publicPolicy(doc) && pab(o)["BlockPublicPolicy"] {
		return nil, errf(403, "AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::%s\" because public policies are blocked by the BlockPublicPolicy block public access setting.", o.ID)
	}
	was := bucketPublic(o)
	o.Attrs["policy"] = doc
	res := &Result{Status: http.StatusNoContent, Request: s3Request(c, map[string]any{"bucketPolicy": parsed, "policy": []string{""}})}
	res.Resources = append(made(o), s.exposure(c, o, was)...)
	return res, nil
}

func s3GetBucketPolicy(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	doc := str(o.Attrs, "policy")
	if doc == "" {
		return nil, errf(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	return &Result{Raw: []byte(doc), Request: s3Request(c, map[string]any{"policy": []string{""}})}, nil
}

func s3DeleteBucketPolicy(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	was := bucketPublic(o)
	delete(o.Attrs, "policy")
	res := &Result{Status: http.StatusNoContent, Request: s3Request(c, map[string]any{"policy": []string{""}})}
	res.Resources = append(made(o), s.exposure(c, o, was)...)
	return res, nil
}

func s3GetBucketPolicyStatus(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	if str(o.Attrs, "policy") == "" {
		return nil, errf(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	// PolicyStatus reads the policy alone, as S3 does.
	return &Result{XML: []*Node{elem("PolicyStatus", el("IsPublic", boolText(publicPolicy(str(o.Attrs, "policy")))))}, Request: s3Request(c, map[string]any{"policyStatus": []string{""}})}, nil
}

var pabFields = []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"}

func s3PutPublicAccessBlock(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	cfg := map[string]bool{}
	if len(c.Body) > 0 {
		var in struct {
			BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
		}
		if xml.Unmarshal(c.Body, &in) != nil {
			return nil, errf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		cfg = map[string]bool{"BlockPublicAcls": in.BlockPublicAcls, "IgnorePublicAcls": in.IgnorePublicAcls, "BlockPublicPolicy": in.BlockPublicPolicy, "RestrictPublicBuckets": in.RestrictPublicBuckets}
	} else {
		for _, f := range pabFields {
			cfg[f] = c.Param(f) == "true"
		}
	}
	was := bucketPublic(o)
	o.Attrs["pab"] = cfg
	rec := map[string]any{"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
	for k, v := range cfg {
		rec[k] = v
	}
	res := &Result{Request: s3Request(c, map[string]any{"PublicAccessBlockConfiguration": rec, "publicAccessBlock": []string{""}})}
	res.Resources = append(made(o), s.exposure(c, o, was)...)
	return res, nil
}

func s3GetPublicAccessBlock(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	cfg := pab(o)
	if cfg == nil {
		return nil, errf(404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	}
	var kids []*Node
	for _, f := range pabFields {
		kids = append(kids, el(f, boolText(cfg[f])))
	}
	return &Result{XML: []*Node{elem("PublicAccessBlockConfiguration", kids...)}, Request: s3Request(c, map[string]any{"publicAccessBlock": []string{""}})}, nil
}

func s3DeletePublicAccessBlock(s *Sim, c *Call) (*Result, error) {
	o, apiErr := s.s3Bucket(c)
	if apiErr != nil {
		return nil, apiErr
	}
	was := bucketPublic(o)
	delete(o.Attrs, "pab")
	res := &Result{Status: http.StatusNoContent, Request: s3Request(c, map[string]any{"publicAccessBlock": []string{""}})}
	res.Resources = append(made(o), s.exposure(c, o, was)...)
	return res, nil
}
