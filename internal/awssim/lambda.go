package awssim

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// lambdaOps returns the handlers of the simulated lambda API.
func lambdaOps() map[string]handler {
	return map[string]handler{
		"ListFunctions":  lambdaListFunctions,
		"CreateFunction": lambdaCreateFunction,
		"GetFunction":    lambdaGetFunction,
		"DeleteFunction": lambdaDeleteFunction,
	}
}

// Lambda's defaults for what CreateFunction may leave out.
const (
	lambdaDefaultTimeout = 3
	lambdaDefaultMemory  = 128
	lambdaMaxZip         = 50 << 20 // direct upload limit of a deployment package
)

var (
	functionNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	roleARNPattern      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$`)
)

// errLambdaNotFound is Lambda's answer for a function that does not exist.
func (s *Sim) errLambdaNotFound(region, name string) *APIError {
	return errf(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s", s.functionARN(region, name))
}

func errLambdaParam(format string, args ...any) *APIError {
	return errf(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func (s *Sim) functionARN(region, name string) string {
	return "arn:aws:lambda:" + region + ":" + s.acct.ID + ":function:" + name
}

// functionName reads the FunctionName path parameter, which may be a name, a
// partial ARN (123456789012:function:name) or a full ARN.
func functionName(c *Call) string {
	name := c.Param("FunctionName")
	if i := strings.Index(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
		if j := strings.Index(name, ":"); j >= 0 {
			name = name[:j] // a qualifier (version or alias) follows the name
		}
	}
	return name
}

// functionConfig renders a function as Lambda's FunctionConfiguration.
func (s *Sim) functionConfig(f *Function, state string) map[string]any {
	cfg := map[string]any{
		"FunctionName":     f.Name,
		"FunctionArn":      f.ARN,
		"Runtime":          f.Runtime,
		"Role":             f.Role,
		"Handler":          f.Handler,
		"CodeSize":         f.CodeSize,
		"Description":      "",
		"Timeout":          lambdaDefaultTimeout,
		"MemorySize":       lambdaDefaultMemory,
		"LastModified":     f.LastModified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"Version":          "$LATEST",
		"TracingConfig":    map[string]any{"Mode": "PassThrough"},
		"RevisionId":       revisionID(f),
		"State":            state,
		"LastUpdateStatus": "Successful",
		"PackageType":      "Zip",
		"Architectures":    []string{"x86_64"},
		"EphemeralStorage": map[string]any{"Size": 512},
		"SnapStart":        map[string]any{"ApplyOn": "None", "OptimizationStatus": "Off"},
		"LoggingConfig":    map[string]any{"LogFormat": "Text", "LogGroup": "/aws/lambda/" + f.Name},
	}
	if len(f.Code) > 0 {
		sum := sha256.Sum256(f.Code)
		cfg["CodeSha256"] = base64.StdEncoding.EncodeToString(sum[:])
	}
	if state == "Pending" {
		cfg["StateReason"] = "The function is being created."
		cfg["StateReasonCode"] = "Creating"
		cfg["LastUpdateStatus"] = "InProgress"
	}
	return cfg
}

// revisionID derives a function's revision ID from what defines it, so that
// it is stable without being stored and changes when the function is made
// again.
func revisionID(f *Function) string {
	h := stableHex(32, f.ARN, f.Runtime, f.Role, f.Handler, strconv.FormatInt(f.CodeSize, 10), f.LastModified.String())
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// lowerFirst turns a configuration into CloudTrail's camel case keys.
func lowerFirst(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = lowerFirst(sub)
		}
		out[strings.ToLower(k[:1])+k[1:]] = v
	}
	return out
}

func lambdaListFunctions(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	maxItems := 50
	if v := c.Param("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, errLambdaParam("MaxItems must be between 1 and 10000, not %s.", v)
		}
		maxItems = n
	}
	start := ""
	if m := c.Param("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return nil, errLambdaParam("Invalid Marker: %s", m)
		}
		start = string(raw)
	}
	names := make([]string, 0, len(rs.Functions))
	if c.Param("MasterRegion") == "" { // no Lambda@Edge replicas exist here
		for n := range rs.Functions {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	i := sort.SearchStrings(names, start)
	page := names[i:]
	next := ""
	if len(page) > maxItems {
		next = base64.RawURLEncoding.EncodeToString([]byte(page[maxItems]))
		page = page[:maxItems]
	}
	fns := make([]any, 0, len(page))
	for _, n := range page {
		fns = append(fns, s.functionConfig(rs.Functions[n], "Active"))
	}
	out := map[string]any{"Functions": fns}
	if next != "" {
		out["NextMarker"] = next
	}
	return &Result{JSON: out}, nil
}

// createFunctionInput is the part of CreateFunction's body the simulator
// keeps or checks.
type createFunctionInput struct {
	FunctionName string
	Runtime      string
	Role         string
	Handler      string
	Description  string
	Timeout      *int
	MemorySize   *int
	Publish      bool
	PackageType  string
	Code         *struct {
		ZipFile  []byte // base64 in JSON; encoding/json decodes it
		S3Bucket string
		S3Key    string
		ImageUri string
	}
}

func lambdaCreateFunction(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	var in createFunctionInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	switch {
	case !functionNamePattern.MatchString(in.FunctionName):
		return nil, errf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+", in.FunctionName)
	case in.Role == "":
		return nil, errf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null")
	case in.Code == nil:
		return nil, errf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null")
	}
	m := roleARNPattern.FindStringSubmatch(in.Role)
	if m == nil {
		return nil, errf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", in.Role)
	}
	if _, ok := s.acct.Roles[m[2]]; !ok || m[1] != s.acct.ID {
		return nil, errLambdaParam("The role defined for the function cannot be assumed by Lambda.")
	}
	if in.PackageType == "Image" || in.Code.ImageUri != "" {
		return nil, errLambdaParam("Source image %s does not exist. Provide a valid source image.", in.Code.ImageUri)
	}
	if in.Code.S3Bucket != "" {
		// The simulated account has no S3 buckets to take code from.
		return nil, errLambdaParam("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist")
	}
	if len(in.Code.ZipFile) == 0 {
		return nil, errLambdaParam("Please provide a source for function code.")
	}
	if len(in.Code.ZipFile) > lambdaMaxZip {
		return nil, errf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "Request must be smaller than %d bytes for the CreateFunction operation", lambdaMaxZip)
	}
	if in.Runtime == "" || in.Handler == "" {
		return nil, errLambdaParam("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if in.Timeout != nil && (*in.Timeout < 1 || *in.Timeout > 900) {
		return nil, errLambdaParam("Timeout must be between 1 and 900 seconds.")
	}
	if in.MemorySize != nil && (*in.MemorySize < 128 || *in.MemorySize > 10240) {
		return nil, errLambdaParam("MemorySize must be between 128 and 10240 MB.")
	}
	if _, ok := rs.Functions[in.FunctionName]; ok {
		return nil, errf(http.StatusConflict, "ResourceConflictException", "Function already exist: %s", in.FunctionName)
	}
	f := &Function{
		Name:         in.FunctionName,
		ARN:          s.functionARN(c.Region, in.FunctionName),
		Runtime:      in.Runtime,
		Role:         in.Role,
		Handler:      in.Handler,
		CodeSize:     int64(len(in.Code.ZipFile)),
		Code:         in.Code.ZipFile,
		LastModified: c.Time.UTC(),
		CreatedBy:    c.Caller().AccessKeyID,
	}
	rs.Functions[f.Name] = f
	cfg := s.functionConfig(f, "Pending")
	sum := sha256.Sum256(in.Code.ZipFile)
	cfg["CodeSha256"] = base64.StdEncoding.EncodeToString(sum[:])
	// The record leaves the deployment package out, as AWS does.
	req := map[string]any{
		"functionName": in.FunctionName, "runtime": in.Runtime, "role": in.Role, "handler": in.Handler,
		"code": map[string]any{}, "description": in.Description, "publish": in.Publish,
		"timeout": lambdaDefaultTimeout, "memorySize": lambdaDefaultMemory,
	}
	if in.Timeout != nil {
		req["timeout"] = *in.Timeout
	}
	if in.MemorySize != nil {
		req["memorySize"] = *in.MemorySize
	}
	return &Result{
		JSON:      cfg,
		Status:    http.StatusCreated,
		Request:   req,
		Response:  lowerFirst(cfg),
		Resources: []EventResource{{Type: "AWS::Lambda::Function", Name: f.Name}},
	}, nil
}

// lambdaFunction resolves the FunctionName and Qualifier of a call. The
// simulator keeps only $LATEST, so any other qualifier names nothing.
func (s *Sim) lambdaFunction(c *Call) (*Function, *APIError) {
	name := functionName(c)
	f, ok := s.acct.region(c.Region).Functions[name]
	if !ok {
		return nil, s.errLambdaNotFound(c.Region, name)
	}
	if q := c.Param("Qualifier"); q != "" && q != "$LATEST" {
		return nil, s.errLambdaNotFound(c.Region, name+":"+q)
	}
	return f, nil
}

func lambdaGetFunction(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	return &Result{
		JSON: map[string]any{
			"Configuration": s.functionConfig(f, "Active"),
			"Code":          s.codeLocation(c, f),
			"Tags":          map[string]any{},
		},
		Request:   map[string]any{"functionName": c.Param("FunctionName")},
		Resources: []EventResource{{Type: "AWS::Lambda::Function", Name: f.Name}},
	}, nil
}

func lambdaDeleteFunction(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	delete(s.acct.region(c.Region).Functions, f.Name)
	// Its URL and its permissions go with it.
	for _, typ := range []string{typeFunctionURL, typeFunctionPerm} {
		for _, o := range s.live(c.Region, typ) {
			if o.ID == f.Name || o.Attrs["function"] == f.Name {
				o.drop("deleted")
			}
		}
	}
	return &Result{
		Status:    http.StatusNoContent,
		Request:   map[string]any{"functionName": c.Param("FunctionName")},
		Resources: []EventResource{{Type: "AWS::Lambda::Function", Name: f.Name}},
	}, nil
}
