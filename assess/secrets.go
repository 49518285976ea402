package assess

import (
	"encoding/json"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// Kinds of secret a key can read, as SecretRead.Kind names them.
const (
	SecretManagerSecret = "secretsmanager-secret"
	SecretParameter     = "ssm-parameter"
	SecretKMSKey        = "kms-key"
	SecretLambdaEnv     = "lambda-environment"
	SecretUserData      = "ec2-user-data"
	SecretS3Object      = "s3-object"
)

// SecretRead is one secret the leaked key or a key derived from it read
// after the leak, in a call not judged the workload's: something to rotate,
// since its value is now the attacker's. It names the secret, never its
// value (CloudTrail does not record the value either).
type SecretRead struct {
	// Kind is one of the Secret* constants.
	Kind string `json:"kind"`
	// Name is what to rotate: the secret's ID or ARN, the parameter's
	// name, the KMS key, the function, the instance, or s3://bucket/key.
	Name   string `json:"name"`
	Region string `json:"region"`
	// Reads are the calls that read it, oldest first.
	Reads []SecretAccess `json:"reads"`
}

// SecretAccess is one call that read a secret: where from and with what.
type SecretAccess struct {
	Time        time.Time `json:"time"`
	EventID     string    `json:"eventID"`
	EventName   string    `json:"eventName"`
	SourceIP    string    `json:"sourceIPAddress"`
	AccessKeyID string    `json:"accessKeyId"`
	Verdict     Verdict   `json:"verdict"`
}

// secretsRead lists what the events read that holds a secret, in the order
// of the first read. Events in order are the investigation's, verdicts[i]
// that of events[i]. Failed calls, calls before the leak, the workload's
// calls and calls a service made on the key's behalf (a KMS Decrypt that
// Secrets Manager made for GetSecretValue) are left out.
func secretsRead(events []*trail.Event, order []int, verdicts []EventAssessment, leak time.Time) []SecretRead {
	var out []SecretRead
	at := map[string]int{}
	for _, i := range order {
		e := events[i]
		if e.ErrorCode != "" || verdicts[i].Verdict == Legitimate || e.UserIdentity.InvokedBy != "" {
			continue
		}
		if !leak.IsZero() && !e.EventTime.IsZero() && e.EventTime.Before(leak) {
			continue
		}
		for _, s := range secretsOf(e) {
			k := s.Kind + "|" + s.Region + "|" + s.Name
			j, ok := at[k]
			if !ok {
				j = len(out)
				at[k] = j
				out = append(out, SecretRead{Kind: s.Kind, Name: s.Name, Region: e.Region})
			}
			out[j].Reads = append(out[j].Reads, SecretAccess{Time: e.EventTime, EventID: e.EventID, EventName: e.EventName,
				SourceIP: e.SourceIPAddress, AccessKeyID: e.UserIdentity.AccessKeyID, Verdict: verdicts[i].Verdict})
		}
	}
	for i := range out {
		sort.SliceStable(out[i].Reads, func(a, b int) bool { return out[i].Reads[a].Time.Before(out[i].Reads[b].Time) })
	}
	return out
}

// secretsOf returns the secrets one successful event read (Kind and Name
// set).
func secretsOf(e *trail.Event) []SecretRead {
	one := func(kind, name string) []SecretRead {
		if name == "" {
			return nil
		}
		return []SecretRead{{Kind: kind, Name: name}}
	}
	source := strings.TrimSuffix(e.EventSource, ".amazonaws.com")
	name := e.EventName
	switch source {
	case "secretsmanager":
		switch name {
		case "GetSecretValue":
			return one(SecretManagerSecret, e.RequestString("secretId"))
		case "BatchGetSecretValue":
			var out []SecretRead
			for _, id := range stringList(e.Request("secretIdList")) {
				out = append(out, one(SecretManagerSecret, id)...)
			}
			return out
		}
	case "ssm":
		if e.RequestString("withDecryption") != "true" {
			return nil
		}
		switch name {
		case "GetParameter", "GetParameterHistory":
			return one(SecretParameter, e.RequestString("name"))
		case "GetParameters":
			var out []SecretRead
			for _, n := range stringList(e.Request("names")) {
				out = append(out, one(SecretParameter, n)...)
			}
			return out
		case "GetParametersByPath":
			p := e.RequestString("path")
			if p != "" && !strings.HasSuffix(p, "/") {
				p += "/"
			}
			if p != "" {
				p += "*"
			}
			return one(SecretParameter, p)
		}
	case "kms":
		if name != "Decrypt" {
			return nil
		}
		key := e.RequestString("keyId")
		for _, r := range e.Resources {
			if key == "" && r.ARN != "" {
				key = r.ARN
			}
		}
		if key == "" {
			key = "(key of the ciphertext)"
		}
		return one(SecretKMSKey, key)
	case "lambda":
		if strings.HasPrefix(name, "GetFunction") && !strings.HasPrefix(name, "GetFunctionUrl") &&
			!strings.HasPrefix(name, "GetFunctionCodeSigning") && !strings.HasPrefix(name, "GetFunctionConcurrency") &&
			!strings.HasPrefix(name, "GetFunctionEventInvoke") && !strings.HasPrefix(name, "GetFunctionRecursion") {
			return one(SecretLambdaEnv, e.RequestString("functionName"))
		}
	case "ec2":
		if name == "DescribeInstanceAttribute" && e.RequestString("attribute") == "userData" {
			return one(SecretUserData, e.RequestString("instanceId"))
		}
	case "s3":
		if name == "GetObject" {
			bucket, key := e.RequestString("bucketName"), e.RequestString("key")
			if bucket != "" && CredentialObject(key) {
				return one(SecretS3Object, "s3://"+bucket+"/"+key)
			}
		}
	}
	return nil
}

// stringList reads a JSON list of strings; anything else is empty.
func stringList(raw json.RawMessage) []string {
	var out []string
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}

// credentialNames are object names that hold credentials wherever they
// are; credentialPatterns match by shape.
var (
	credentialNames = map[string]bool{
		".env": true, "credentials": true, "credentials.json": true, "credentials.csv": true, "id_rsa": true,
		"id_dsa": true, "id_ecdsa": true, "id_ed25519": true, "terraform.tfstate": true, "terraform.tfstate.backup": true,
		".npmrc": true, ".pypirc": true, ".netrc": true, ".git-credentials": true, ".htpasswd": true, ".pgpass": true,
		".dockercfg": true, "kubeconfig": true, "wp-config.php": true, "secrets.json": true, "secrets.yml": true,
		"secrets.yaml": true, "accesskeys.csv": true, "rootkey.csv": true, "service-account.json": true,
	}
	credentialPatterns = []string{".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.kdbx",
		"*.tfstate", "*.tfstate.backup", "*.ppk", "*_accessKeys.csv", "*credentials*"}
)

// CredentialObject tells whether an S3 object key looks like it holds
// credentials (.env, credentials, id_rsa, *.pem, terraform.tfstate, …), so
// that reading it means rotating what is in it.
func CredentialObject(key string) bool {
	base := strings.ToLower(path.Base(key))
	if key == "" || strings.HasSuffix(key, "/") {
		return false
	}
	if credentialNames[base] {
		return true
	}
	if strings.Contains(strings.ToLower(key), ".aws/config") || strings.Contains(strings.ToLower(key), ".docker/config.json") {
		return true
	}
	for _, p := range credentialPatterns {
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}
