package awssim

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Node is an XML element of a query-protocol answer: text or children.
type Node struct {
	Name string
	Text string
	Kids []*Node
}

// el is a text element.
func el(name, text string) *Node { return &Node{Name: name, Text: text} }

// elem is an element with children; nil children are skipped, so optional
// elements can be written inline.
func elem(name string, kids ...*Node) *Node {
	n := &Node{Name: name}
	for _, k := range kids {
		if k != nil {
			n.Kids = append(n.Kids, k)
		}
	}
	return n
}

// members wraps items as <name><member>…</member>…</name> (awsQuery lists) or,
// with member "item", as EC2 lists.
func members(name, member string, items []*Node) *Node {
	n := &Node{Name: name}
	for _, it := range items {
		it.Name = member
		n.Kids = append(n.Kids, it)
	}
	return n
}

// isoTime formats a time the way query protocols do.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (n *Node) write(b *strings.Builder) {
	b.WriteString("<" + n.Name + ">")
	if len(n.Kids) == 0 {
		_ = xml.EscapeText(writerOf{b}, []byte(n.Text))
	}
	for _, k := range n.Kids {
		k.write(b)
	}
	b.WriteString("</" + n.Name + ">")
}

type writerOf struct{ b *strings.Builder }

func (w writerOf) Write(p []byte) (int, error) { return w.b.Write(p) }

// maxBody bounds request bodies; nothing the simulator accepts is larger.
const maxBody = 8 << 20

// restRoute maps a REST request to an action.
type restRoute struct {
	method  string
	pattern []string // path segments; "{Name}" captures into Params
	action  string
}

var restRoutes = map[string][]restRoute{
	"lambda": {
		{"GET", split("/2015-03-31/functions"), "ListFunctions"},
		{"GET", split("/2015-03-31/functions/"), "ListFunctions"},
		{"POST", split("/2015-03-31/functions"), "CreateFunction"},
		{"POST", split("/2015-03-31/functions/"), "CreateFunction"},
		{"GET", split("/2015-03-31/functions/{FunctionName}"), "GetFunction"},
		{"DELETE", split("/2015-03-31/functions/{FunctionName}"), "DeleteFunction"},
		{"POST", split("/2021-10-31/functions/{FunctionName}/url"), "CreateFunctionUrlConfig"},
		{"GET", split("/2021-10-31/functions/{FunctionName}/url"), "GetFunctionUrlConfig"},
		{"DELETE", split("/2021-10-31/functions/{FunctionName}/url"), "DeleteFunctionUrlConfig"},
		{"POST", split("/2015-03-31/functions/{FunctionName}/policy"), "AddPermission"},
		{"GET", split("/2015-03-31/functions/{FunctionName}/policy"), "GetPolicy"},
		{"DELETE", split("/2015-03-31/functions/{FunctionName}/policy/{StatementId}"), "RemovePermission"},
	},
	"guardduty": {
		{"GET", split("/detector"), "ListDetectors"},
		{"POST", split("/detector"), "CreateDetector"},
		{"GET", split("/detector/{DetectorId}"), "GetDetector"},
		{"POST", split("/detector/{DetectorId}"), "UpdateDetector"},
		{"DELETE", split("/detector/{DetectorId}"), "DeleteDetector"},
		{"POST", split("/detector/{DetectorId}/findings"), "ListFindings"},
		{"POST", split("/detector/{DetectorId}/findings/get"), "GetFindings"},
	},
	"eks": {
		{"POST", split("/clusters"), "CreateCluster"},
		{"GET", split("/clusters/{name}"), "DescribeCluster"},
		{"DELETE", split("/clusters/{name}"), "DeleteCluster"},
		{"POST", split("/clusters/{name}/node-groups"), "CreateNodegroup"},
		{"GET", split("/clusters/{name}/node-groups/{nodegroupName}"), "DescribeNodegroup"},
		{"DELETE", split("/clusters/{name}/node-groups/{nodegroupName}"), "DeleteNodegroup"},
	},
	"batch": {
		{"POST", split("/v1/createcomputeenvironment"), "CreateComputeEnvironment"},
		{"POST", split("/v1/describecomputeenvironments"), "DescribeComputeEnvironments"},
		{"POST", split("/v1/updatecomputeenvironment"), "UpdateComputeEnvironment"},
		{"POST", split("/v1/deletecomputeenvironment"), "DeleteComputeEnvironment"},
	},
	"bedrock": {
		{"POST", split("/create-foundation-model-agreement"), "CreateFoundationModelAgreement"},
		{"POST", split("/delete-foundation-model-agreement"), "DeleteFoundationModelAgreement"},
		{"GET", split("/foundation-model-availability/{modelId}"), "GetFoundationModelAvailability"},
		{"GET", split("/logging/modelinvocations"), "GetModelInvocationLoggingConfiguration"},
		{"PUT", split("/logging/modelinvocations"), "PutModelInvocationLoggingConfiguration"},
		{"DELETE", split("/logging/modelinvocations"), "DeleteModelInvocationLoggingConfiguration"},
	},
}

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// route finds the action of a REST request and its path parameters.
func route(service, method, urlPath string) (string, map[string]string, bool) {
	segs := split(urlPath)
	for _, r := range restRoutes[service] {
		if r.method != method || len(r.pattern) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, p := range r.pattern {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = segs[i]
			} else if p != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return r.action, params, true
		}
	}
	return "", nil, false
}

// jsonServices speak JSON 1.1 with X-Amz-Target; restServices REST JSON.
var (
	jsonServices = map[string]bool{"cloudtrail": true, "secretsmanager": true, "organizations": true, "support": true, "ecs": true, "lightsail": true,
		"sagemaker": true, "codebuild": true, "glue": true, "pricing": true, "ce": true}
	restServices = map[string]bool{"lambda": true, "guardduty": true, "eks": true, "batch": true, "bedrock": true}
)

// protocol families.
func protocolOf(service string) string {
	switch service {
	case "iam", "sts", "autoscaling", "ses":
		return "query"
	case "ec2":
		return "ec2"
	case "s3":
		return "s3"
	}
	if jsonServices[service] {
		return "json"
	}
	if restServices[service] {
		return "rest"
	}
	return "query"
}

// Handler returns the simulator's HTTP handler: AWS APIs on every path, and
// the simulator's own endpoints under /_sim/.
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveSim(w, r)
		return
	}
	scope, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		writeError(w, "query", "", errf(403, "MissingAuthenticationToken", "Request is missing Authentication Token"))
		return
	}
	proto := protocolOf(scope.Service)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, proto, scope.Service, errf(400, "InvalidRequest", "The request body could not be read or is too large."))
		return
	}
	c := &Call{
		Service:     scope.Service,
		Region:      scope.Region,
		AccessKeyID: scope.AccessKeyID,
		SourceIP:    sourceIP(r),
		UserAgent:   r.UserAgent(),
		Params:      map[string]string{},
	}
	sig, ok := newSignedRequest(r, body)
	if !ok {
		writeError(w, proto, c.Service, errf(400, "IncompleteSignature", "The request signature does not conform to AWS standards."))
		return
	}
	c.sig = sig
	c.Host = r.Host
	switch proto {
	case "query", "ec2":
		form, err := parseForm(r, body)
		if err != nil {
			writeError(w, proto, c.Service, errf(400, "MalformedQueryString", "The query string could not be parsed."))
			return
		}
		for k, v := range form {
			if k == "Action" || k == "Version" {
				continue
			}
			c.Params[k] = v[0]
		}
		c.Action = form.Get("Action")
		if c.Action == "" {
			writeError(w, proto, c.Service, errMissingAction())
			return
		}
	case "json":
		target := r.Header.Get("X-Amz-Target")
		i := strings.LastIndex(target, ".")
		if target == "" || i < 0 {
			writeError(w, proto, c.Service, errf(400, "UnknownOperationException", "Missing or malformed X-Amz-Target header."))
			return
		}
		c.Action = target[i+1:]
		c.Body = body
	case "s3":
		action, bucket, ok := s3Route(r.Method, r.URL.Path, r.URL.Query())
		if !ok {
			writeError(w, proto, c.Service, errf(405, "MethodNotAllowed", "The simulator serves no S3 operation at %s %s", r.Method, r.URL.Path))
			return
		}
		c.Action = action
		c.Params["Bucket"] = bucket
		c.Body = body
	case "rest":
		action, params, ok := route(c.Service, r.Method, r.URL.Path)
		if !ok {
			writeError(w, proto, c.Service, errf(404, "UnknownOperationException", "No operation at %s %s", r.Method, r.URL.Path))
			return
		}
		c.Action = action
		c.Params = params
		for k, v := range r.URL.Query() {
			c.Params[k] = v[0]
		}
		c.Body = body
	}
	if d := s.faultLatency(); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if apiErr := s.injectFault(c); apiErr != nil {
		writeError(w, proto, c.Service, apiErr)
		return
	}
	res, err := s.Do(c)
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			apiErr = errf(500, "InternalFailure", "%v", err)
		}
		writeError(w, proto, c.Service, apiErr)
		return
	}
	writeResult(w, proto, c, res)
}

func errMissingAction() *APIError {
	return errf(400, "MissingAction", "The request must contain the parameter Action")
}

// parseForm reads awsQuery parameters from the URL and a form body.
func parseForm(r *http.Request, body []byte) (urlValues, error) {
	vals := urlValues{}
	for k, v := range r.URL.Query() {
		vals[k] = v
	}
	if len(body) > 0 {
		bv, err := parseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, v := range bv {
			vals[k] = append(vals[k], v...)
		}
	}
	return vals, nil
}

// sourceIP is the caller's address; X-Forwarded-For lets tests and the
// scenario engine speak for callers elsewhere.
func sourceIP(r *http.Request) string {
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		return strings.TrimSpace(strings.Split(f, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func xmlNamespace(service string) string {
	switch service {
	case "iam":
		return "https://iam.amazonaws.com/doc/2010-05-08/"
	case "sts":
		return "https://sts.amazonaws.com/doc/2011-06-15/"
	case "autoscaling":
		return "http://autoscaling.amazonaws.com/doc/2011-01-01/"
	case "ses":
		return "http://ses.amazonaws.com/doc/2010-12-01/"
	}
	return "http://ec2.amazonaws.com/doc/2016-11-15/"
}

func newRequestID() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-sim"
}

func writeResult(w http.ResponseWriter, proto string, c *Call, res *Result) {
	status := http.StatusOK
	if res.Status != 0 {
		status = res.Status
	}
	switch proto {
	case "query":
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString("<" + c.Action + "Response xmlns=\"" + xmlNamespace(c.Service) + "\">")
		// SES writes its (often empty) Result element for every call, and
		// the SDK's deserializers look for it.
		if len(res.XML) > 0 || c.Service == "ses" {
			elem(c.Action+"Result", res.XML...).write(&b)
		}
		elem("ResponseMetadata", el("RequestId", newRequestID())).write(&b)
		b.WriteString("</" + c.Action + "Response>")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, b.String())
	case "ec2":
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString("<" + c.Action + "Response xmlns=\"" + xmlNamespace("ec2") + "\">")
		el("requestId", newRequestID()).write(&b)
		for _, n := range res.XML {
			n.write(&b)
		}
		b.WriteString("</" + c.Action + "Response>")
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, b.String())
	case "s3":
		w.Header().Set("X-Amz-Request-Id", newRequestID())
		switch {
		case res.Raw != nil:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(res.Raw)
		case len(res.XML) > 0:
			var b strings.Builder
			b.WriteString(xml.Header)
			res.XML[0].write(&b)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, b.String())
		default:
			w.WriteHeader(status)
		}
	default:
		body := res.JSON
		if body == nil {
			body = map[string]any{}
		}
		ct := "application/json"
		if proto == "json" {
			ct = "application/x-amz-json-1.1"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("X-Amzn-Requestid", newRequestID())
		w.WriteHeader(status)
		if status != http.StatusNoContent {
			_ = json.NewEncoder(w).Encode(body)
		}
	}
}

func writeError(w http.ResponseWriter, proto, service string, e *APIError) {
	status := e.Status
	if status == 0 {
		status = 400
	}
	switch proto {
	case "query":
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString("<ErrorResponse xmlns=\"" + xmlNamespace(service) + "\">")
		elem("Error", el("Type", kind), el("Code", e.Code), el("Message", e.Message)).write(&b)
		el("RequestId", newRequestID()).write(&b)
		b.WriteString("</ErrorResponse>")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, b.String())
	case "ec2":
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString("<Response>")
		elem("Errors", elem("Error", el("Code", e.Code), el("Message", e.Message))).write(&b)
		el("RequestID", newRequestID()).write(&b)
		b.WriteString("</Response>")
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, b.String())
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Request-Id", newRequestID())
		w.WriteHeader(status)
		var b strings.Builder
		b.WriteString(xml.Header)
		elem("Error", el("Code", e.Code), el("Message", e.Message), el("RequestId", newRequestID())).write(&b)
		_, _ = io.WriteString(w, b.String())
	case "json":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", newRequestID())
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", e.Code)
		w.Header().Set("X-Amzn-Requestid", newRequestID())
		w.WriteHeader(status)
		kind := "User"
		if status >= 500 {
			kind = "Service"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": kind, "message": e.Message})
	}
}
