package awssim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// What a responder keeps before removing an attacker's instance or
// function: EBS snapshots of its volumes, its console output and user data,
// and a function's deployment package, downloaded from the presigned URL
// that GetFunction hands out.

// rootVolumeSize is the size in GiB of every simulated instance's one
// volume.
const rootVolumeSize = 8

// volumeID is the ID of an instance's root volume: derived from the
// instance, so it needs no state of its own.
func volumeID(instanceID string) string { return "vol-0" + stableHex(16, "volume", instanceID) }

// blockDevices is DescribeInstances' blockDeviceMapping of an instance: its
// root volume, deleted on termination, as AWS launches it from an AMI.
func blockDevices(i *Instance, state string) *Node {
	if state == "terminated" {
		return elem("blockDeviceMapping")
	}
	return members("blockDeviceMapping", "item", []*Node{elem("item",
		el("deviceName", "/dev/xvda"),
		elem("ebs",
			el("volumeId", volumeID(i.ID)),
			el("status", "attached"),
			el("attachTime", isoTime(i.LaunchTime)),
			el("deleteOnTermination", "true")))})
}

// snapshot is an EBS snapshot a caller took.
type snapshot struct {
	ID, VolumeID, Description, Region, Owner string
	Started                                  time.Time
	Tags                                     [][2]string
}

// snapshotStore holds the snapshots of every region; like all state it is
// guarded by Sim.mu. It lives in the handlers' closure, so each Sim has its
// own.
type snapshotStore struct {
	byID map[string]*snapshot
}

// ec2EvidenceOps are the EC2 calls that keep evidence of an instance.
func ec2EvidenceOps() map[string]handler {
	st := &snapshotStore{byID: map[string]*snapshot{}}
	return map[string]handler{
		"CreateSnapshot":            st.createOrVolume,
		"DescribeSnapshots":         st.describe,
		"GetConsoleOutput":          ec2GetConsoleOutput,
		"DescribeInstanceAttribute": ec2DescribeInstanceAttribute,
	}
}

// volumeOwner finds the instance whose root volume id is; terminated
// instances' volumes are gone with them.
func volumeOwner(rs *regionState, id string) *Instance {
	for _, i := range rs.Instances {
		if volumeID(i.ID) == id && i.State != "terminated" {
			return i
		}
	}
	return nil
}

// tagSpecs reads TagSpecification.N.Tag.M.Key/Value for a resource type.
func tagSpecs(c *Call, resourceType string) [][2]string {
	var out [][2]string
	for n := 1; ; n++ {
		p := "TagSpecification." + strconv.Itoa(n) + "."
		typ, ok := c.Params[p+"ResourceType"]
		if !ok {
			return out
		}
		if typ != resourceType {
			continue
		}
		for m := 1; ; m++ {
			k, ok := c.Params[p+"Tag."+strconv.Itoa(m)+".Key"]
			if !ok {
				break
			}
			out = append(out, [2]string{k, c.Params[p+"Tag."+strconv.Itoa(m)+".Value"]})
		}
	}
}

func tagSetXML(tags [][2]string) *Node {
	var items []*Node
	for _, t := range tags {
		items = append(items, elem("item", el("key", t[0]), el("value", t[1])))
	}
	return members("tagSet", "item", items)
}

func (st *snapshotStore) create(s *Sim, c *Call) (*Result, error) {
	vol := c.Param("VolumeId")
	if vol == "" {
		return nil, errMissingParam("VolumeId")
	}
	if volumeOwner(s.acct.region(c.Region), vol) == nil {
		return nil, errf(400, "InvalidVolume.NotFound", "The volume '%s' does not exist.", vol)
	}
	sn := &snapshot{ID: "snap-0" + s.newHex(16), VolumeID: vol, Description: c.Param("Description"),
		Region: c.Region, Owner: s.acct.ID, Started: c.Time.UTC(), Tags: tagSpecs(c, "snapshot")}
	st.byID[sn.ID] = sn
	tags := make([]any, 0, len(sn.Tags))
	for _, t := range sn.Tags {
		tags = append(tags, map[string]any{"key": t[0], "value": t[1]})
	}
	return &Result{
		XML: []*Node{el("snapshotId", sn.ID), el("volumeId", vol), el("status", "pending"),
			el("startTime", isoTime(sn.Started)), el("progress", ""), el("ownerId", sn.Owner),
			el("volumeSize", strconv.Itoa(rootVolumeSize)), el("description", sn.Description),
			el("encrypted", "false"), tagSetXML(sn.Tags)},
		Request: map[string]any{"volumeId": vol, "description": sn.Description,
			"tagSpecificationSet": map[string]any{"items": []any{map[string]any{"resourceType": "snapshot", "tags": tags}}}},
		Response: map[string]any{"snapshotId": sn.ID, "volumeId": vol, "status": "pending",
			"startTime": sn.Started.UnixMilli(), "ownerId": sn.Owner, "volumeSize": rootVolumeSize,
			"description": sn.Description, "encrypted": false, "tagSet": map[string]any{"items": tags}},
		Resources: []EventResource{{Type: "AWS::EC2::Snapshot", Name: sn.ID}},
	}, nil
}

// createOrVolume snapshots an instance's root volume as evidence (create),
// or a volume made with CreateVolume as the account's own EBS objects do
// (ec2CreateSnapshot).
func (st *snapshotStore) createOrVolume(s *Sim, c *Call) (*Result, error) {
	if vol := c.Param("VolumeId"); vol != "" && volumeOwner(s.acct.region(c.Region), vol) == nil &&
		s.obj(c.Region, typeVolume, vol) != nil {
		return ec2CreateSnapshot(s, c)
	}
	return st.create(s, c)
}

// describe lists the region's snapshots (a snapshot completes at once in
// the simulator), narrowed by SnapshotId.N and the snapshot-id, volume-id
// and tag:KEY filters.
func (st *snapshotStore) describe(s *Sim, c *Call) (*Result, error) {
	ids := listParam(c.Params, "SnapshotId")
	for _, id := range ids {
		if sn, ok := st.byID[id]; !ok || sn.Region != c.Region {
			return nil, errf(400, "InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		}
	}
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for _, f := range structListParam(c.Params, "Filter") {
		name := f["Name"]
		if name != "snapshot-id" && name != "volume-id" && !strings.HasPrefix(name, "tag:") {
			return nil, errEC2Param("The filter '%s' is invalid", name)
		}
		filters = append(filters, filter{name, listParam(f, "Value")})
	}
	var keys []string
	for id, sn := range st.byID {
		if sn.Region == c.Region && (len(ids) == 0 || slices.Contains(ids, id)) {
			keys = append(keys, id)
		}
	}
	sort.Strings(keys)
	var items []*Node
	for _, id := range keys {
		sn := st.byID[id]
		ok := true
		for _, f := range filters {
			var have []string
			switch {
			case f.name == "snapshot-id":
				have = []string{sn.ID}
			case f.name == "volume-id":
				have = []string{sn.VolumeID}
			default:
				for _, t := range sn.Tags {
					if t[0] == strings.TrimPrefix(f.name, "tag:") {
						have = append(have, t[1])
					}
				}
			}
			if !slices.ContainsFunc(have, func(v string) bool { return slices.Contains(f.values, v) }) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		items = append(items, elem("item", el("snapshotId", sn.ID), el("volumeId", sn.VolumeID),
			el("status", "completed"), el("startTime", isoTime(sn.Started)), el("progress", "100%"),
			el("ownerId", sn.Owner), el("volumeSize", strconv.Itoa(rootVolumeSize)),
			el("description", sn.Description), el("encrypted", "false"), tagSetXML(sn.Tags)))
	}
	return &Result{XML: []*Node{members("snapshotSet", "item", items)}}, nil
}

// consoleText is what a simulated instance printed on its serial console:
// a boot log, and what its user data started.
func consoleText(i *Instance, region string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[    0.000000] Linux version 6.1.72-96.166.amzn2023.x86_64 (mockbuild@ip-10-0-51-46) #1 SMP\n")
	fmt.Fprintf(&b, "[    1.204117] systemd[1]: Hostname set to <%s>.\n", privateDNS(region, instanceAddr(i.ID)))
	fmt.Fprintf(&b, "[   12.881503] cloud-init[1873]: Cloud-init v. 22.2.2 running 'modules:final' at %s.\n", i.LaunchTime.UTC().Format(time.RFC1123))
	if ud, err := base64.StdEncoding.DecodeString(i.UserData); err == nil && len(ud) > 0 {
		for _, line := range strings.Split(strings.TrimSpace(string(ud)), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				fmt.Fprintf(&b, "[   13.402265] cloud-init[1873]: + %s\n", line)
			}
		}
	}
	fmt.Fprintf(&b, "[   14.007781] cloud-init[1873]: Cloud-init v. 22.2.2 finished. Datasource DataSourceEc2.\n")
	return b.String()
}

func ec2GetConsoleOutput(s *Sim, c *Call) (*Result, error) {
	id := c.Param("InstanceId")
	if id == "" {
		return nil, errMissingParam("InstanceId")
	}
	found, apiErr := lookupInstances(s.acct.region(c.Region), []string{id})
	if apiErr != nil {
		return nil, apiErr
	}
	out := base64.StdEncoding.EncodeToString([]byte(consoleText(found[0], c.Region)))
	return &Result{
		XML:       []*Node{el("instanceId", id), el("timestamp", isoTime(c.Time)), el("output", out)},
		Request:   map[string]any{"instanceId": id},
		Resources: []EventResource{{Type: "AWS::EC2::Instance", Name: id}},
	}, nil
}

// ec2DescribeInstanceAttribute answers the userData attribute, the one
// evidence needs; AWS records the call without the value.
func ec2DescribeInstanceAttribute(s *Sim, c *Call) (*Result, error) {
	id, attr := c.Param("InstanceId"), c.Param("Attribute")
	if id == "" {
		return nil, errMissingParam("InstanceId")
	}
	if attr != "userData" {
		return nil, errEC2Param("Value (%s) for parameter attribute is invalid. The simulator serves the userData attribute.", attr)
	}
	found, apiErr := lookupInstances(s.acct.region(c.Region), []string{id})
	if apiErr != nil {
		return nil, apiErr
	}
	ud := elem("userData")
	if found[0].UserData != "" {
		ud = elem("userData", el("value", found[0].UserData))
	}
	return &Result{
		XML:       []*Node{el("instanceId", id), ud},
		Request:   map[string]any{"instanceId": id, "attribute": attr},
		Resources: []EventResource{{Type: "AWS::EC2::Instance", Name: id}},
	}, nil
}

// lambdaCodePath is where the simulator serves deployment packages, as S3
// serves Lambda's presigned Code.Location.
const lambdaCodePath = "/_sim/lambda-code/"

// lambdaCodeExpiry is how long a Code.Location stays valid, as AWS's.
const lambdaCodeExpiry = 10 * time.Minute

// codeSignature signs a package URL's path and date, so that only the URLs
// GetFunction handed out (and not expired) are served.
func (s *Sim) codeSignature(path, date string) string {
	m := hmac.New(sha256.New, []byte("keyleak-sim-lambda-code/"+s.acct.ID))
	m.Write([]byte(path + "\n" + date))
	return hex.EncodeToString(m.Sum(nil))
}

// codeLocation is GetFunction's Code: the repository type and, for a call
// that came over HTTP, a presigned loopback URL of the package.
func (s *Sim) codeLocation(c *Call, f *Function) map[string]any {
	code := map[string]any{"RepositoryType": "S3"}
	if c.Host == "" {
		return code
	}
	path := lambdaCodePath + url.PathEscape(s.acct.ID) + "/" + url.PathEscape(c.Region) + "/" + url.PathEscape(f.Name)
	date := c.Time.UTC().Format("20060102T150405Z")
	q := url.Values{}
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Date", date)
	q.Set("X-Amz-Expires", strconv.Itoa(int(lambdaCodeExpiry.Seconds())))
	q.Set("X-Amz-Signature", s.codeSignature(path, date))
	code["Location"] = "http://" + c.Host + path + "?" + q.Encode()
	return code
}

// serveLambdaCode answers a GET of a Code.Location: the package, or S3's
// AccessDenied for a URL it did not sign or that has expired.
func (s *Sim) serveLambdaCode(w http.ResponseWriter, r *http.Request) {
	deny := func(msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>%s</Message></Error>", msg)
	}
	if r.Method != http.MethodGet {
		deny("Only GET is allowed.")
		return
	}
	q := r.URL.Query()
	date := q.Get("X-Amz-Date")
	if !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(s.codeSignature(r.URL.EscapedPath(), date))) {
		deny("The request signature we calculated does not match the signature you provided.")
		return
	}
	t, err := time.Parse("20060102T150405Z", date)
	s.mu.Lock()
	now := s.now()
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, lambdaCodePath), "/")
	var code []byte
	if len(parts) == 3 {
		if a := s.accountByID(parts[0]); a != nil {
			if rs := a.region(parts[1]); rs != nil {
				if f, ok := rs.Functions[parts[2]]; ok {
					code = f.Code
				}
			}
		}
	}
	s.mu.Unlock()
	if err != nil || now.After(t.Add(lambdaCodeExpiry)) {
		deny("Request has expired")
		return
	}
	if code == nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprint(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.Itoa(len(code)))
	_, _ = w.Write(code)
}
