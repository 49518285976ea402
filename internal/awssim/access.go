package awssim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Ways into the account that need no key: IAM identity providers (OIDC,
// SAML) and a Lambda function's URL and resource-based permissions.

const (
	typeOIDCProvider = "AWS::IAM::OIDCProvider"
	typeSAMLProvider = "AWS::IAM::SAMLProvider"
	typeFunctionURL  = "AWS::Lambda::Url"
	typeFunctionPerm = "AWS::Lambda::Permission"
)

// iamRegion holds IAM's objects: IAM is global, its resources are listed in
// us-east-1, where its events are.
const iamRegion = "us-east-1"

func iamProviderOps() map[string]handler {
	return map[string]handler{
		"CreateOpenIDConnectProvider": iamCreateOIDCProvider,
		"GetOpenIDConnectProvider":    iamGetOIDCProvider,
		"DeleteOpenIDConnectProvider": iamDeleteOIDCProvider,
		"CreateSAMLProvider":          iamCreateSAMLProvider,
		"GetSAMLProvider":             iamGetSAMLProvider,
		"DeleteSAMLProvider":          iamDeleteSAMLProvider,
	}
}

// putIAM makes an IAM object, kept in us-east-1 whatever the signing
// region.
func (s *Sim) putIAM(c *Call, typ, id string) *object {
	region := c.Region
	c.Region = iamRegion
	defer func() { c.Region = region }()
	return s.put(c, typ, id)
}

func iamCreateOIDCProvider(s *Sim, c *Call) (*Result, error) {
	raw := c.Param("Url")
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, errValidation("Invalid URL: %s; the URL must begin with https://", raw)
	}
	arn := "arn:aws:iam::" + s.acct.ID + ":oidc-provider/" + u.Host + strings.TrimSuffix(u.Path, "/")
	if s.obj(iamRegion, typeOIDCProvider, arn) != nil {
		return nil, errf(409, "EntityAlreadyExists", "Provider with url %s already exists.", raw)
	}
	o := s.putIAM(c, typeOIDCProvider, arn)
	o.ARN = arn
	o.Attrs = map[string]any{"url": u.Host + strings.TrimSuffix(u.Path, "/"), "clients": listParam(c.Params, "ClientIDList.member"), "thumbprints": listParam(c.Params, "ThumbprintList.member")}
	return &Result{
		XML:       []*Node{el("OpenIDConnectProviderArn", arn)},
		Request:   map[string]any{"url": raw, "clientIDList": listParam(c.Params, "ClientIDList.member"), "thumbprintList": listParam(c.Params, "ThumbprintList.member")},
		Response:  map[string]any{"openIDConnectProviderArn": arn},
		Resources: made(o),
	}, nil
}

func (s *Sim) iamProvider(typ, arn string) (*object, *APIError) {
	if o := s.obj(iamRegion, typ, arn); o != nil {
		return o, nil
	}
	what := map[string]string{typeOIDCProvider: "OpenIDConnect Provider", typeSAMLProvider: "SAML Provider"}[typ]
	return nil, errf(404, "NoSuchEntity", "%s not found for arn %s", what, arn)
}

func iamGetOIDCProvider(s *Sim, c *Call) (*Result, error) {
	arn := c.Param("OpenIDConnectProviderArn")
	o, apiErr := s.iamProvider(typeOIDCProvider, arn)
	if apiErr != nil {
		return nil, apiErr
	}
	var clients, thumbs []*Node
	for _, v := range o.Attrs["clients"].([]string) {
		clients = append(clients, el("", v))
	}
	for _, v := range o.Attrs["thumbprints"].([]string) {
		thumbs = append(thumbs, el("", v))
	}
	return &Result{XML: []*Node{el("Url", str(o.Attrs, "url")), members("ClientIDList", "member", clients), members("ThumbprintList", "member", thumbs),
		el("CreateDate", isoTime(o.Created))}, Request: map[string]any{"openIDConnectProviderArn": arn}}, nil
}

func iamDeleteOIDCProvider(s *Sim, c *Call) (*Result, error) {
	arn := c.Param("OpenIDConnectProviderArn")
	o, apiErr := s.iamProvider(typeOIDCProvider, arn)
	if apiErr != nil {
		return nil, apiErr
	}
	o.drop("deleted")
	return &Result{Request: map[string]any{"openIDConnectProviderArn": arn}, Resources: made(o)}, nil
}

func iamCreateSAMLProvider(s *Sim, c *Call) (*Result, error) {
	name, doc := c.Param("Name"), c.Param("SAMLMetadataDocument")
	if name == "" || !strings.Contains(doc, "EntityDescriptor") {
		return nil, errValidation("Could not parse metadata")
	}
	arn := "arn:aws:iam::" + s.acct.ID + ":saml-provider/" + name
	if s.obj(iamRegion, typeSAMLProvider, arn) != nil {
		return nil, errf(409, "EntityAlreadyExists", "SAMLProvider %s already exists.", name)
	}
	o := s.putIAM(c, typeSAMLProvider, arn)
	o.ARN = arn
	o.Attrs = map[string]any{"doc": doc}
	return &Result{
		XML:       []*Node{el("SAMLProviderArn", arn)},
		Request:   map[string]any{"name": name, "sAMLMetadataDocument": doc},
		Response:  map[string]any{"sAMLProviderArn": arn},
		Resources: made(o),
	}, nil
}

func iamGetSAMLProvider(s *Sim, c *Call) (*Result, error) {
	arn := c.Param("SAMLProviderArn")
	o, apiErr := s.iamProvider(typeSAMLProvider, arn)
	if apiErr != nil {
		return nil, apiErr
	}
	return &Result{XML: []*Node{el("SAMLMetadataDocument", str(o.Attrs, "doc")), el("CreateDate", isoTime(o.Created)),
		el("ValidUntil", isoTime(o.Created.AddDate(100, 0, 0)))}, Request: map[string]any{"sAMLProviderArn": arn}}, nil
}

func iamDeleteSAMLProvider(s *Sim, c *Call) (*Result, error) {
	arn := c.Param("SAMLProviderArn")
	o, apiErr := s.iamProvider(typeSAMLProvider, arn)
	if apiErr != nil {
		return nil, apiErr
	}
	o.drop("deleted")
	return &Result{Request: map[string]any{"sAMLProviderArn": arn}, Resources: made(o)}, nil
}

// ---- Lambda function URLs and permissions ----

func lambdaAccessOps() map[string]handler {
	return map[string]handler{
		"CreateFunctionUrlConfig": lambdaCreateURL,
		"GetFunctionUrlConfig":    lambdaGetURL,
		"DeleteFunctionUrlConfig": lambdaDeleteURL,
		"AddPermission":           lambdaAddPermission,
		"GetPolicy":               lambdaGetPolicy,
		"RemovePermission":        lambdaRemovePermission,
	}
}

func errLambdaNoResource() *APIError {
	return errf(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
}

func urlJSON(o *object, f *Function) map[string]any {
	return map[string]any{"FunctionUrl": str(o.Attrs, "url"), "FunctionArn": f.ARN, "AuthType": str(o.Attrs, "auth"),
		"CreationTime": isoTime(o.Created), "LastModifiedTime": isoTime(o.Created)}
}

func lambdaCreateURL(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	auth := str(in, "AuthType")
	if auth != "NONE" && auth != "AWS_IAM" {
		return nil, errf(400, "ValidationException", "1 validation error detected: Value '%s' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]", auth)
	}
	if s.obj(c.Region, typeFunctionURL, f.Name) != nil {
		return nil, errf(409, "ResourceConflictException", "Failed to create function url config for [functionArn = %s]. Error message:  FunctionUrlConfig exists for this Lambda function", f.ARN)
	}
	o := s.put(c, typeFunctionURL, f.Name)
	o.Attrs = map[string]any{"auth": auth, "url": "https://" + s.newHex(32) + ".lambda-url." + c.Region + ".on.aws/"}
	out := urlJSON(o, f)
	delete(out, "LastModifiedTime")
	return &Result{JSON: out, Status: http.StatusCreated, Request: map[string]any{"functionName": c.Param("FunctionName"), "authType": auth},
		Response: lowerFirst(out), Resources: made(o)}, nil
}

func lambdaGetURL(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	o := s.obj(c.Region, typeFunctionURL, f.Name)
	if o == nil {
		return nil, errLambdaNoResource()
	}
	return &Result{JSON: urlJSON(o, f), Request: map[string]any{"functionName": c.Param("FunctionName")}}, nil
}

func lambdaDeleteURL(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	o := s.obj(c.Region, typeFunctionURL, f.Name)
	if o == nil {
		return nil, errLambdaNoResource()
	}
	o.drop("deleted")
	return &Result{Status: http.StatusNoContent, Request: map[string]any{"functionName": c.Param("FunctionName")}, Resources: made(o)}, nil
}

// permStatement renders one permission as its policy statement.
func permStatement(o *object, f *Function) map[string]any {
	principal := any(map[string]any{"Service": str(o.Attrs, "principal")})
	switch p := str(o.Attrs, "principal"); {
	case p == "*":
		principal = "*"
	case !strings.Contains(p, "."):
		principal = map[string]any{"AWS": "arn:aws:iam::" + p + ":root"}
	}
	return map[string]any{"Sid": o.Attrs["sid"], "Effect": "Allow", "Principal": principal, "Action": o.Attrs["action"], "Resource": f.ARN}
}

func lambdaAddPermission(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	sid, action, principal := str(in, "StatementId"), str(in, "Action"), str(in, "Principal")
	if sid == "" || action == "" || principal == "" {
		return nil, errf(400, "ValidationException", "StatementId, Action and Principal are required")
	}
	if s.obj(c.Region, typeFunctionPerm, f.Name+"/"+sid) != nil {
		return nil, errf(409, "ResourceConflictException", "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid)
	}
	o := s.put(c, typeFunctionPerm, f.Name+"/"+sid)
	o.Attrs = map[string]any{"sid": sid, "action": action, "principal": principal, "function": f.Name}
	st, _ := json.Marshal(permStatement(o, f))
	return &Result{JSON: map[string]any{"Statement": string(st)}, Status: http.StatusCreated,
		Request:  map[string]any{"functionName": c.Param("FunctionName"), "statementId": sid, "action": action, "principal": principal},
		Response: map[string]any{"statement": string(st)}, Resources: made(o)}, nil
}

func lambdaGetPolicy(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	var sts []any
	for _, o := range s.live(c.Region, typeFunctionPerm) {
		if o.Attrs["function"] == f.Name {
			sts = append(sts, permStatement(o, f))
		}
	}
	if len(sts) == 0 {
		return nil, errLambdaNoResource()
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": sts})
	return &Result{JSON: map[string]any{"Policy": string(doc), "RevisionId": revisionID(f)}, Request: map[string]any{"functionName": c.Param("FunctionName")}}, nil
}

func lambdaRemovePermission(s *Sim, c *Call) (*Result, error) {
	f, apiErr := s.lambdaFunction(c)
	if apiErr != nil {
		return nil, apiErr
	}
	sid := c.Param("StatementId")
	o := s.obj(c.Region, typeFunctionPerm, f.Name+"/"+sid)
	if o == nil {
		return nil, errf(http.StatusNotFound, "ResourceNotFoundException", "Statement %s is not found in resource policy.", sid)
	}
	o.drop("deleted")
	return &Result{Status: http.StatusNoContent, Request: map[string]any{"functionName": c.Param("FunctionName"), "statementId": sid}, Resources: made(o)}, nil
}
