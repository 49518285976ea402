package awssim

import (
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ec2Ops returns the handlers of the simulated ec2 API.
func ec2Ops() map[string]handler {
	ops := map[string]handler{
		"DescribeRegions":               ec2DescribeRegions,
		"DescribeInstances":             ec2DescribeInstances,
		"RunInstances":                  ec2RunInstances,
		"TerminateInstances":            ec2TerminateInstances,
		"DescribeKeyPairs":              ec2DescribeKeyPairs,
		"CreateKeyPair":                 ec2CreateKeyPair,
		"ImportKeyPair":                 ec2ImportKeyPair,
		"DeleteKeyPair":                 ec2DeleteKeyPair,
		"DescribeSecurityGroups":        ec2DescribeSecurityGroups,
		"CreateSecurityGroup":           ec2CreateSecurityGroup,
		"DeleteSecurityGroup":           ec2DeleteSecurityGroup,
		"AuthorizeSecurityGroupIngress": ec2AuthorizeIngress,
		"RevokeSecurityGroupIngress":    ec2RevokeIngress,
	}
	maps.Copy(ops, ec2MoreOps())
	maps.Copy(ops, ec2EvidenceOps())
	for name, h := range ops {
		ops[name] = ec2Prepare(h)
	}
	return ops
}

// ec2Prepare wraps an EC2 handler: it makes sure the region has its default
// VPC security group (AWS creates it with the account; the simulator does so
// on the region's first EC2 call) and answers DryRun requests, which AWS
// answers after the permission check with DryRunOperation.
func ec2Prepare(h handler) handler {
	return func(s *Sim, c *Call) (*Result, error) {
		s.ec2Defaults(c.Region)
		if c.Param("DryRun") == "true" {
			return nil, errf(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
		}
		return h(s, c)
	}
}

// Instance state codes as EC2 reports them.
var instanceStateCode = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

// maxInstancesPerRegion bounds the instances that may run at once in a
// region, like the account's default On-Demand limit; it also keeps a
// runaway scenario from growing the state without bound.
const maxInstancesPerRegion = 20

// stableHex derives n hex characters from the parts. Objects that AWS makes
// with the account (default VPC, subnet, security group) get their IDs this
// way, so creating them lazily does not shift the seeded ID sequence.
func stableHex(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:n]
}

func (s *Sim) defaultVpcID(region string) string {
	return "vpc-0" + stableHex(16, s.acct.ID, region, "vpc")
}

func (s *Sim) defaultSubnetID(region string) string {
	return "subnet-0" + stableHex(16, s.acct.ID, region, "subnet")
}

func (s *Sim) defaultGroupID(region string) string {
	return "sg-0" + stableHex(16, s.acct.ID, region, "default-sg")
}

// ec2Defaults creates the region's default security group if it is missing.
// It is set-up, not a call of a key: CreatedBy stays empty. Called with mu held.
func (s *Sim) ec2Defaults(region string) {
	rs := s.acct.region(region)
	if rs == nil {
		return
	}
	id := s.defaultGroupID(region)
	if _, ok := rs.SecurityGroups[id]; ok {
		return
	}
	rs.SecurityGroups[id] = &SecurityGroup{
		ID:          id,
		Name:        "default",
		Description: "default VPC security group",
		VpcID:       s.defaultVpcID(region),
	}
}

// errEC2Param is EC2's answer to a parameter with a wrong value.
func errEC2Param(format string, args ...any) *APIError {
	return errf(400, "InvalidParameterValue", format, args...)
}

// ec2Bool reads a boolean parameter.
func ec2Bool(c *Call, name string) bool { return strings.EqualFold(c.Param(name), "true") }

// ec2Int reads an optional integer parameter; ok is false when absent.
func ec2Int(c *Call, name string) (v int, ok bool, apiErr *APIError) {
	raw, present := c.Params[name]
	if !present {
		return 0, false, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, false, errEC2Param("Invalid value '%s' for %s. It must be an integer.", raw, name)
	}
	return n, true, nil
}

// ec2Filter is one Filter.N of a Describe call.
type ec2Filter struct {
	Name   string
	Values []string
}

// ec2Filters reads Filter.N.Name and Filter.N.Value.M and checks the names
// against the ones the action supports.
func ec2Filters(c *Call, supported ...string) ([]ec2Filter, *APIError) {
	var out []ec2Filter
	for _, f := range structListParam(c.Params, "Filter") {
		name := f["Name"]
		if !slices.Contains(supported, name) {
			return nil, errEC2Param("The filter '%s' is invalid", name)
		}
		out = append(out, ec2Filter{Name: name, Values: listParam(f, "Value")})
	}
	return out, nil
}

// filterSet renders filters the way CloudTrail records them.
func filterSet(filters []ec2Filter) map[string]any {
	if len(filters) == 0 {
		return map[string]any{}
	}
	var items []any
	for _, f := range filters {
		var vals []any
		for _, v := range f.Values {
			vals = append(vals, map[string]any{"value": v})
		}
		items = append(items, map[string]any{"name": f.Name, "valueSet": itemSet(vals)})
	}
	return itemSet(items)
}

// itemSet is CloudTrail's rendering of an EC2 list: {"items":[…]}, or {}.
func itemSet(items []any) map[string]any {
	if len(items) == 0 {
		return map[string]any{}
	}
	return map[string]any{"items": items}
}

// matchFilters reports whether an object passes every filter; field returns
// the object's values for a filter name. Values may hold * and ? wildcards.
func matchFilters(filters []ec2Filter, field func(name string) []string) bool {
	for _, f := range filters {
		have := field(f.Name)
		ok := false
		for _, want := range f.Values {
			for _, h := range have {
				if wildcardMatch(want, h) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// wildcardMatch matches EC2 filter patterns: * any run, ? one character.
// path.Match is not used because values such as CIDRs contain slashes.
func wildcardMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	expr := regexp.QuoteMeta(pattern)
	expr = strings.ReplaceAll(expr, `\*`, ".*")
	expr = strings.ReplaceAll(expr, `\?`, ".")
	ok, err := regexp.MatchString("^"+expr+"$", s)
	return err == nil && ok
}

// ec2Page applies MaxResults and NextToken to a list of sortable keys: the
// token is the key the next page starts at, so that the list may change
// between pages without items being skipped or repeated.
func ec2Page(c *Call, keys []string, minMax, maxMax int) (start, end int, next string, apiErr *APIError) {
	end = len(keys)
	if tok := c.Param("NextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return 0, 0, "", errEC2Param("Invalid NextToken value: %s", tok)
		}
		start = sort.SearchStrings(keys, string(raw))
	}
	max, ok, apiErr := ec2Int(c, "MaxResults")
	if apiErr != nil {
		return 0, 0, "", apiErr
	}
	if ok {
		if max < minMax || max > maxMax {
			return 0, 0, "", errEC2Param("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", max, minMax, maxMax)
		}
		if start+max < end {
			end = start + max
			next = base64.RawURLEncoding.EncodeToString([]byte(keys[end]))
		}
	}
	return start, end, next, nil
}

// ---- regions ----

func ec2DescribeRegions(s *Sim, c *Call) (*Result, error) {
	filters, apiErr := ec2Filters(c, "endpoint", "opt-in-status", "region-name")
	if apiErr != nil {
		return nil, apiErr
	}
	all := ec2Bool(c, "AllRegions")
	names := listParam(c.Params, "RegionName")
	for _, n := range names {
		if _, ok := s.acct.regionInfo(n); !ok {
			return nil, errEC2Param("Invalid region: %s", n)
		}
	}
	var items []*Node
	for _, r := range s.acct.Regions {
		if !all && !r.Enabled() {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, r.Name) {
			continue
		}
		endpoint := "ec2." + r.Name + ".amazonaws.com"
		ok := matchFilters(filters, func(name string) []string {
			switch name {
			case "endpoint":
				return []string{endpoint}
			case "opt-in-status":
				return []string{r.OptInStatus}
			}
			return []string{r.Name}
		})
		if !ok {
			continue
		}
		items = append(items, elem("item",
			el("regionName", r.Name), el("regionEndpoint", endpoint), el("optInStatus", r.OptInStatus)))
	}
	var regionSet []any
	for _, n := range names {
		regionSet = append(regionSet, map[string]any{"regionName": n})
	}
	req := map[string]any{"regionSet": itemSet(regionSet), "filterSet": filterSet(filters)}
	if _, ok := c.Params["AllRegions"]; ok {
		req["allRegions"] = all
	}
	return &Result{XML: []*Node{members("regionInfo", "item", items)}, Request: req}, nil
}

// ---- instances ----

// reservation is the instances one RunInstances call launched.
type reservation struct {
	ID        string
	Instances []*Instance // ordered by instance ID, which is their launch index
}

// reservationKey groups instances launched by one RunInstances call. The
// instance state has no reservation ID, so the launch is recognised by what
// the call's instances share; the reservation ID is derived from the lowest
// instance ID, which RunInstances computes the same way.
func reservationKey(i *Instance) string {
	return strings.Join([]string{strconv.FormatInt(i.LaunchTime.UnixNano(), 10), i.CreatedBy, i.ImageID,
		i.InstanceType, i.KeyName, strings.Join(i.SecurityGroup, ",")}, "\x00")
}

func (s *Sim) reservationID(region, firstInstance string) string {
	return "r-0" + stableHex(16, s.acct.ID, region, firstInstance)
}

// reservations lists a region's reservations ordered by ID. Called with mu held.
func (s *Sim) reservations(region string, rs *regionState) []*reservation {
	groups := map[string][]*Instance{}
	for _, i := range rs.Instances {
		k := reservationKey(i)
		groups[k] = append(groups[k], i)
	}
	out := make([]*reservation, 0, len(groups))
	for _, g := range groups {
		sort.Slice(g, func(a, b int) bool { return g[a].ID < g[b].ID })
		out = append(out, &reservation{ID: s.reservationID(region, g[0].ID), Instances: g})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// instanceAddr derives an instance's private address in the default VPC
// from its ID, so that it is stable without being stored.
func instanceAddr(id string) string {
	sum := sha256.Sum256([]byte(id))
	return fmt.Sprintf("172.31.%d.%d", sum[0], 1+int(sum[1])%254)
}

func privateDNS(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// groupRefs resolves an instance's security group IDs to (ID, name) pairs.
func groupRefs(rs *regionState, ids []string) [][2]string {
	var out [][2]string
	for _, id := range ids {
		name := ""
		if g, ok := rs.SecurityGroups[id]; ok {
			name = g.Name
		}
		out = append(out, [2]string{id, name})
	}
	return out
}

// instanceXML renders an instance as DescribeInstances and RunInstances
// answer it; state overrides the stored state (RunInstances reports
// "pending" as AWS does, although the simulated instance runs at once).
func (s *Sim) instanceXML(region string, rs *regionState, i *Instance, index int, state string) *Node {
	ip := instanceAddr(i.ID)
	var groups []*Node
	for _, g := range groupRefs(rs, i.SecurityGroup) {
		groups = append(groups, elem("item", el("groupId", g[0]), el("groupName", g[1])))
	}
	var keyName *Node
	if i.KeyName != "" {
		keyName = el("keyName", i.KeyName)
	}
	var addr []*Node
	if state != "terminated" {
		addr = []*Node{el("privateDnsName", privateDNS(region, ip)), el("privateIpAddress", ip),
			el("subnetId", s.defaultSubnetID(region)), el("vpcId", s.defaultVpcID(region))}
	} else {
		addr = []*Node{el("privateDnsName", "")}
	}
	n := elem("item",
		el("instanceId", i.ID),
		el("imageId", i.ImageID),
		elem("instanceState", el("code", strconv.Itoa(instanceStateCode[state])), el("name", state)),
		el("dnsName", ""),
		el("reason", ""),
		keyName,
		el("amiLaunchIndex", strconv.Itoa(index)),
		elem("productCodes"),
		el("instanceType", i.InstanceType),
		el("launchTime", isoTime(i.LaunchTime)),
		elem("placement", el("availabilityZone", region+"a"), el("groupName", ""), el("tenancy", "default")),
		elem("monitoring", el("state", "disabled")),
		members("groupSet", "item", groups),
		el("architecture", "x86_64"),
		el("rootDeviceType", "ebs"),
		el("rootDeviceName", "/dev/xvda"),
		blockDevices(i, state),
		el("virtualizationType", "hvm"),
		el("hypervisor", "xen"),
	)
	n.Kids = append(n.Kids, addr...)
	return n
}

// instanceRecord renders an instance for RunInstances' responseElements.
func (s *Sim) instanceRecord(region string, rs *regionState, i *Instance, index int, state string) map[string]any {
	ip := instanceAddr(i.ID)
	var groups []any
	for _, g := range groupRefs(rs, i.SecurityGroup) {
		groups = append(groups, map[string]any{"groupId": g[0], "groupName": g[1]})
	}
	m := map[string]any{
		"instanceId":         i.ID,
		"imageId":            i.ImageID,
		"instanceState":      map[string]any{"code": instanceStateCode[state], "name": state},
		"privateDnsName":     privateDNS(region, ip),
		"privateIpAddress":   ip,
		"amiLaunchIndex":     index,
		"productCodes":       map[string]any{},
		"instanceType":       i.InstanceType,
		"launchTime":         i.LaunchTime.UnixMilli(),
		"placement":          map[string]any{"availabilityZone": region + "a", "tenancy": "default"},
		"monitoring":         map[string]any{"state": "disabled"},
		"subnetId":           s.defaultSubnetID(region),
		"vpcId":              s.defaultVpcID(region),
		"groupSet":           itemSet(groups),
		"architecture":       "x86_64",
		"rootDeviceType":     "ebs",
		"rootDeviceName":     "/dev/xvda",
		"blockDeviceMapping": map[string]any{},
		"virtualizationType": "hvm",
		"hypervisor":         "xen",
		"stateReason":        map[string]any{"code": "pending", "message": "pending"},
	}
	if i.KeyName != "" {
		m["keyName"] = i.KeyName
	}
	return m
}

var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// lookupInstances resolves InstanceId.N, failing on malformed and unknown IDs
// the way EC2 does.
func lookupInstances(rs *regionState, ids []string) ([]*Instance, *APIError) {
	var missing []string
	var out []*Instance
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, errf(400, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
		i, ok := rs.Instances[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, i)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, errf(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	}
	return nil, errf(400, "InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

func instanceSet(ids []string) map[string]any {
	var items []any
	for _, id := range ids {
		items = append(items, map[string]any{"instanceId": id})
	}
	return itemSet(items)
}

func ec2DescribeInstances(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	filters, apiErr := ec2Filters(c, "instance-id", "instance-state-name", "instance-state-code", "instance-type",
		"image-id", "key-name", "instance.group-id", "instance.group-name", "reservation-id", "vpc-id",
		"subnet-id", "availability-zone", "private-ip-address")
	if apiErr != nil {
		return nil, apiErr
	}
	ids := listParam(c.Params, "InstanceId")
	if len(ids) > 0 && c.Param("MaxResults") != "" {
		return nil, errf(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	want := map[string]bool{}
	if len(ids) > 0 {
		found, apiErr := lookupInstances(rs, ids)
		if apiErr != nil {
			return nil, apiErr
		}
		for _, i := range found {
			want[i.ID] = true
		}
	}
	all := s.reservations(c.Region, rs)
	keys := make([]string, len(all))
	for k, r := range all {
		keys[k] = r.ID
	}
	start, end, next, apiErr := ec2Page(c, keys, 5, 1000)
	if apiErr != nil {
		return nil, apiErr
	}
	var items []*Node
	for _, r := range all[start:end] {
		var inst []*Node
		for idx, i := range r.Instances {
			if len(want) > 0 && !want[i.ID] {
				continue
			}
			ok := matchFilters(filters, func(name string) []string { return s.instanceField(c.Region, rs, r, i, name) })
			if ok {
				inst = append(inst, s.instanceXML(c.Region, rs, i, idx, i.State))
			}
		}
		if len(inst) == 0 {
			continue
		}
		items = append(items, elem("item",
			el("reservationId", r.ID), el("ownerId", s.acct.ID), elem("groupSet"), members("instancesSet", "item", inst)))
	}
	out := []*Node{members("reservationSet", "item", items)}
	if next != "" {
		out = append(out, el("nextToken", next))
	}
	req := map[string]any{"instancesSet": instanceSet(ids), "filterSet": filterSet(filters)}
	if v, ok, _ := ec2Int(c, "MaxResults"); ok {
		req["maxResults"] = v
	}
	return &Result{XML: out, Request: req}, nil
}

// instanceField returns an instance's values for a DescribeInstances filter.
func (s *Sim) instanceField(region string, rs *regionState, r *reservation, i *Instance, name string) []string {
	switch name {
	case "instance-id":
		return []string{i.ID}
	case "instance-state-name":
		return []string{i.State}
	case "instance-state-code":
		return []string{strconv.Itoa(instanceStateCode[i.State])}
	case "instance-type":
		return []string{i.InstanceType}
	case "image-id":
		return []string{i.ImageID}
	case "key-name":
		return []string{i.KeyName}
	case "instance.group-id":
		return i.SecurityGroup
	case "instance.group-name":
		var out []string
		for _, g := range groupRefs(rs, i.SecurityGroup) {
			out = append(out, g[1])
		}
		return out
	case "reservation-id":
		return []string{r.ID}
	case "vpc-id":
		return []string{s.defaultVpcID(region)}
	case "subnet-id":
		return []string{s.defaultSubnetID(region)}
	case "availability-zone":
		return []string{region + "a"}
	case "private-ip-address":
		return []string{instanceAddr(i.ID)}
	}
	return nil
}

func ec2RunInstances(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	image := c.Param("ImageId")
	if image == "" {
		return nil, errMissingParam("ImageId")
	}
	if !strings.HasPrefix(image, "ami-") {
		return nil, errf(400, "InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", image)
	}
	minCount, okMin, apiErr := ec2Int(c, "MinCount")
	if apiErr != nil {
		return nil, apiErr
	}
	maxCount, okMax, apiErr := ec2Int(c, "MaxCount")
	if apiErr != nil {
		return nil, apiErr
	}
	if !okMin {
		return nil, errMissingParam("MinCount")
	}
	if !okMax {
		return nil, errMissingParam("MaxCount")
	}
	if minCount < 1 || maxCount < minCount {
		return nil, errEC2Param("Invalid value for MinCount (%d) or MaxCount (%d): MinCount must be at least 1 and not more than MaxCount.", minCount, maxCount)
	}
	itype := c.Param("InstanceType")
	if itype == "" {
		itype = "t2.micro"
	}
	keyName := c.Param("KeyName")
	if keyName != "" {
		if _, ok := rs.KeyPairs[keyName]; !ok {
			return nil, errf(400, "InvalidKeyPair.NotFound", "The key pair '%s' does not exist", keyName)
		}
	}
	groups, apiErr := s.launchGroups(c, rs)
	if apiErr != nil {
		return nil, apiErr
	}
	running := 0
	for _, i := range rs.Instances {
		if i.State != "terminated" {
			running++
		}
	}
	available := maxInstancesPerRegion - running
	if minCount > available {
		return nil, errf(400, "InstanceLimitExceeded",
			"You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
			minCount, maxInstancesPerRegion)
	}
	n := min(maxCount, available)
	launched := make([]*Instance, n)
	for k := range launched {
		launched[k] = &Instance{
			ID:            "i-0" + s.newHex(16),
			ImageID:       image,
			InstanceType:  itype,
			KeyName:       keyName,
			State:         "running",
			LaunchTime:    c.Time.UTC(),
			SecurityGroup: groups,
			CreatedBy:     c.Caller().AccessKeyID,
			UserData:      c.Param("UserData"),
		}
	}
	sort.Slice(launched, func(a, b int) bool { return launched[a].ID < launched[b].ID })
	resID := s.reservationID(c.Region, launched[0].ID)
	var xmlItems []*Node
	var recItems []any
	var resources []EventResource
	for idx, i := range launched {
		rs.Instances[i.ID] = i
		xmlItems = append(xmlItems, s.instanceXML(c.Region, rs, i, idx, "pending"))
		recItems = append(recItems, s.instanceRecord(c.Region, rs, i, idx, "pending"))
		resources = append(resources, EventResource{Type: "AWS::EC2::Instance", Name: i.ID})
	}
	launchItem := map[string]any{"imageId": image, "minCount": minCount, "maxCount": maxCount}
	if keyName != "" {
		launchItem["keyName"] = keyName
	}
	var groupItems []any
	for _, g := range listParam(c.Params, "SecurityGroupId") {
		groupItems = append(groupItems, map[string]any{"groupId": g})
	}
	for _, g := range listParam(c.Params, "SecurityGroup") {
		groupItems = append(groupItems, map[string]any{"groupName": g})
	}
	return &Result{
		XML: []*Node{
			el("reservationId", resID),
			el("ownerId", s.acct.ID),
			elem("groupSet"),
			members("instancesSet", "item", xmlItems),
		},
		Request: map[string]any{
			"instancesSet":          itemSet([]any{launchItem}),
			"instanceType":          itype,
			"groupSet":              itemSet(groupItems),
			"blockDeviceMapping":    map[string]any{},
			"monitoring":            map[string]any{"enabled": false},
			"disableApiTermination": false,
			"disableApiStop":        false,
		},
		Response: map[string]any{
			"reservationId": resID,
			"ownerId":       s.acct.ID,
			"groupSet":      map[string]any{},
			"instancesSet":  itemSet(recItems),
		},
		Resources: resources,
	}, nil
}

// launchGroups resolves RunInstances' SecurityGroupId.N and SecurityGroup.N
// (names); without either the instance gets the default group.
func (s *Sim) launchGroups(c *Call, rs *regionState) ([]string, *APIError) {
	var out []string
	for _, id := range listParam(c.Params, "SecurityGroupId") {
		if _, ok := rs.SecurityGroups[id]; !ok {
			return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, name := range listParam(c.Params, "SecurityGroup") {
		g := groupByName(rs, name)
		if g == nil {
			return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", name, s.defaultVpcID(c.Region))
		}
		if !slices.Contains(out, g.ID) {
			out = append(out, g.ID)
		}
	}
	if len(out) == 0 {
		out = []string{s.defaultGroupID(c.Region)}
	}
	return out, nil
}

func ec2TerminateInstances(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	ids := listParam(c.Params, "InstanceId")
	if len(ids) == 0 {
		return nil, errMissingParam("InstanceId")
	}
	found, apiErr := lookupInstances(rs, ids)
	if apiErr != nil {
		return nil, apiErr
	}
	var xmlItems []*Node
	var recItems []any
	var resources []EventResource
	for _, i := range found {
		prev := i.State
		// AWS answers "shutting-down" and finishes a moment later; the
		// simulated instance is terminated at once.
		current := "shutting-down"
		if prev == "terminated" {
			current = "terminated"
		}
		if i.State != "terminated" {
			i.Ended = c.Time.UTC()
		}
		i.State = "terminated"
		xmlItems = append(xmlItems, elem("item",
			el("instanceId", i.ID),
			elem("currentState", el("code", strconv.Itoa(instanceStateCode[current])), el("name", current)),
			elem("previousState", el("code", strconv.Itoa(instanceStateCode[prev])), el("name", prev))))
		recItems = append(recItems, map[string]any{
			"instanceId":    i.ID,
			"currentState":  map[string]any{"code": instanceStateCode[current], "name": current},
			"previousState": map[string]any{"code": instanceStateCode[prev], "name": prev},
		})
		resources = append(resources, EventResource{Type: "AWS::EC2::Instance", Name: i.ID})
	}
	return &Result{
		XML:       []*Node{members("instancesSet", "item", xmlItems)},
		Request:   map[string]any{"instancesSet": instanceSet(ids)},
		Response:  map[string]any{"instancesSet": itemSet(recItems)},
		Resources: resources,
	}, nil
}

// ---- key pairs ----

// keyType tells the type of a stored key pair from its fingerprint: AWS
// prints RSA fingerprints as colon-separated hex and ED25519 ones as base64.
func keyType(k *KeyPair) string {
	if strings.Contains(k.Fingerprint, ":") {
		return "rsa"
	}
	return "ed25519"
}

func ec2DescribeKeyPairs(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	filters, apiErr := ec2Filters(c, "key-name", "key-pair-id", "fingerprint", "key-type")
	if apiErr != nil {
		return nil, apiErr
	}
	names := listParam(c.Params, "KeyName")
	ids := listParam(c.Params, "KeyPairId")
	for _, n := range names {
		if _, ok := rs.KeyPairs[n]; !ok {
			return nil, errf(400, "InvalidKeyPair.NotFound", "The key pair '%s' does not exist", n)
		}
	}
	for _, id := range ids {
		if keyPairByID(rs, id) == nil {
			return nil, errf(400, "InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", id)
		}
	}
	keys := make([]*KeyPair, 0, len(rs.KeyPairs))
	for _, k := range rs.KeyPairs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].Name < keys[b].Name })
	var items []*Node
	for _, k := range keys {
		if len(names) > 0 && !slices.Contains(names, k.Name) || len(ids) > 0 && !slices.Contains(ids, k.ID) {
			continue
		}
		ok := matchFilters(filters, func(name string) []string {
			switch name {
			case "key-name":
				return []string{k.Name}
			case "key-pair-id":
				return []string{k.ID}
			case "fingerprint":
				return []string{k.Fingerprint}
			}
			return []string{keyType(k)}
		})
		if !ok {
			continue
		}
		items = append(items, elem("item",
			el("keyPairId", k.ID), el("keyName", k.Name), el("keyFingerprint", k.Fingerprint),
			el("keyType", keyType(k)), elem("tagSet"), el("createTime", isoTime(k.Created))))
	}
	var keySet, idSet []any
	for _, n := range names {
		keySet = append(keySet, map[string]any{"keyName": n})
	}
	for _, id := range ids {
		idSet = append(idSet, map[string]any{"keyPairId": id})
	}
	return &Result{
		XML:     []*Node{members("keySet", "item", items)},
		Request: map[string]any{"keySet": itemSet(keySet), "keyPairIdSet": itemSet(idSet), "filterSet": filterSet(filters)},
	}, nil
}

func keyPairByID(rs *regionState, id string) *KeyPair {
	for _, k := range rs.KeyPairs {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// checkNewKeyName validates the name of a key pair to be created.
func checkNewKeyName(rs *regionState, name string) *APIError {
	if name == "" {
		return errMissingParam("KeyName")
	}
	if len(name) > 255 {
		return errEC2Param("Value (%s) for parameter keyName is invalid. Length exceeds maximum of 255.", name)
	}
	if _, ok := rs.KeyPairs[name]; ok {
		return errf(400, "InvalidKeyPair.Duplicate", "The keypair already exists")
	}
	return nil
}

func ec2CreateKeyPair(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	name := c.Param("KeyName")
	if apiErr := checkNewKeyName(rs, name); apiErr != nil {
		return nil, apiErr
	}
	kt := c.Param("KeyType")
	if kt == "" {
		kt = "rsa"
	}
	if f := c.Param("KeyFormat"); f != "" && f != "pem" {
		return nil, errEC2Param("The simulator creates key pairs in pem format only, not '%s'.", f)
	}
	var material, fingerprint string
	var err error
	switch kt {
	case "rsa":
		material, fingerprint, err = s.newRSAKeyPair()
	case "ed25519":
		material, fingerprint, err = s.newEd25519KeyPair()
	default:
		return nil, errEC2Param("Value (%s) for parameter keyType is invalid. Valid values are rsa and ed25519.", kt)
	}
	if err != nil {
		return nil, fmt.Errorf("create key pair: %w", err)
	}
	k := &KeyPair{Name: name, ID: "key-0" + s.newHex(16), Fingerprint: fingerprint, Created: c.Time.UTC(),
		CreatedBy: c.Caller().AccessKeyID}
	rs.KeyPairs[name] = k
	req := map[string]any{"keyName": name}
	if c.Param("KeyType") != "" {
		req["keyType"] = kt
	}
	return &Result{
		XML: []*Node{el("keyName", k.Name), el("keyFingerprint", k.Fingerprint), el("keyMaterial", material),
			el("keyPairId", k.ID), elem("tagSet")},
		Request: req,
		// keyMaterial is the private key: AWS leaves it out of the record.
		Response:  map[string]any{"keyName": k.Name, "keyFingerprint": k.Fingerprint, "keyPairId": k.ID},
		Resources: []EventResource{{Type: "AWS::EC2::KeyPair", Name: k.Name}},
	}, nil
}

func ec2ImportKeyPair(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	name := c.Param("KeyName")
	if apiErr := checkNewKeyName(rs, name); apiErr != nil {
		return nil, apiErr
	}
	enc := c.Param("PublicKeyMaterial")
	if enc == "" {
		return nil, errMissingParam("PublicKeyMaterial")
	}
	pub, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errEC2Param("Value for parameter PublicKeyMaterial is invalid: it is not base64-encoded.")
	}
	fingerprint, apiErr := importedFingerprint(pub)
	if apiErr != nil {
		return nil, apiErr
	}
	k := &KeyPair{Name: name, ID: "key-0" + s.newHex(16), Fingerprint: fingerprint, Created: c.Time.UTC(),
		CreatedBy: c.Caller().AccessKeyID}
	rs.KeyPairs[name] = k
	return &Result{
		XML:       []*Node{el("keyFingerprint", k.Fingerprint), el("keyName", k.Name), el("keyPairId", k.ID), elem("tagSet")},
		Request:   map[string]any{"keyName": name},
		Response:  map[string]any{"keyName": k.Name, "keyFingerprint": k.Fingerprint, "keyPairId": k.ID},
		Resources: []EventResource{{Type: "AWS::EC2::KeyPair", Name: k.Name}},
	}, nil
}

// ec2DeleteKeyPair deletes by name or ID. Like AWS it succeeds when the key
// pair does not exist, so that deleting twice is harmless.
func ec2DeleteKeyPair(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	name, id := c.Param("KeyName"), c.Param("KeyPairId")
	if name == "" && id == "" {
		return nil, errMissingParam("KeyName or KeyPairId")
	}
	var k *KeyPair
	if id != "" {
		k = keyPairByID(rs, id)
	} else {
		k = rs.KeyPairs[name]
	}
	req := map[string]any{}
	if name != "" {
		req["keyName"] = name
	}
	if id != "" {
		req["keyPairId"] = id
	}
	res := &Result{XML: []*Node{el("return", "true")}, Request: req, Response: map[string]any{"_return": true}}
	if k != nil {
		delete(rs.KeyPairs, k.Name)
		res.XML = append(res.XML, el("keyPairId", k.ID))
		res.Response["keyPairId"] = k.ID
		res.Resources = []EventResource{{Type: "AWS::EC2::KeyPair", Name: k.Name}}
	}
	return res, nil
}

// ---- security groups ----

func groupByName(rs *regionState, name string) *SecurityGroup {
	for _, g := range rs.SecurityGroups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// findGroup resolves GroupId or GroupName of a call.
func (s *Sim) findGroup(c *Call, rs *regionState) (*SecurityGroup, *APIError) {
	id, name := c.Param("GroupId"), c.Param("GroupName")
	switch {
	case id != "":
		if g, ok := rs.SecurityGroups[id]; ok {
			return g, nil
		}
		if !strings.HasPrefix(id, "sg-") {
			return nil, errf(400, "InvalidGroupId.Malformed", "Invalid id: \"%s\" (expecting \"sg-...\")", id)
		}
		return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case name != "":
		if g := groupByName(rs, name); g != nil {
			return g, nil
		}
		return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, s.defaultVpcID(c.Region))
	}
	return nil, errMissingParam("GroupId or GroupName")
}

func (s *Sim) groupARN(region, id string) string {
	return "arn:aws:ec2:" + region + ":" + s.acct.ID + ":security-group/" + id
}

// ruleID derives a security group rule's ID from the group and the rule.
func ruleID(groupID string, r IngressRule) string {
	return "sgr-0" + stableHex(16, groupID, r.Protocol, strconv.Itoa(r.FromPort), strconv.Itoa(r.ToPort), r.CidrIP)
}

// permissionXML renders rules as an ipPermissions list, one item per
// (protocol, ports) with its CIDR ranges, as EC2 groups them.
func permissionXML(name string, rules []IngressRule) *Node {
	var items []*Node
	for _, p := range groupRules(rules) {
		var ranges []*Node
		for _, r := range p.ranges {
			ranges = append(ranges, elem("item", el("cidrIp", r)))
		}
		item := elem("item", el("ipProtocol", p.proto))
		if p.proto != "-1" {
			item.Kids = append(item.Kids, el("fromPort", strconv.Itoa(p.from)), el("toPort", strconv.Itoa(p.to)))
		}
		item.Kids = append(item.Kids, elem("groups"), members("ipRanges", "item", ranges),
			elem("ipv6Ranges"), elem("prefixListIds"))
		items = append(items, item)
	}
	return members(name, "item", items)
}

type permission struct {
	proto    string
	from, to int
	ranges   []string
}

func groupRules(rules []IngressRule) []permission {
	var out []permission
	for _, r := range rules {
		found := false
		for k := range out {
			if out[k].proto == r.Protocol && out[k].from == r.FromPort && out[k].to == r.ToPort {
				out[k].ranges = append(out[k].ranges, r.CidrIP)
				found = true
				break
			}
		}
		if !found {
			out = append(out, permission{proto: r.Protocol, from: r.FromPort, to: r.ToPort, ranges: []string{r.CidrIP}})
		}
	}
	return out
}

// permissionRecord renders rules as CloudTrail's ipPermissions.
func permissionRecord(rules []IngressRule) map[string]any {
	var items []any
	for _, p := range groupRules(rules) {
		var ranges []any
		for _, r := range p.ranges {
			ranges = append(ranges, map[string]any{"cidrIp": r})
		}
		item := map[string]any{"ipProtocol": p.proto, "groups": map[string]any{}, "ipRanges": itemSet(ranges),
			"ipv6Ranges": map[string]any{}, "prefixListIds": map[string]any{}}
		if p.proto != "-1" {
			item["fromPort"] = p.from
			item["toPort"] = p.to
		}
		items = append(items, item)
	}
	return itemSet(items)
}

func (s *Sim) groupXML(g *SecurityGroup) *Node {
	egress := permissionXML("ipPermissionsEgress", []IngressRule{{Protocol: "-1", FromPort: -1, ToPort: -1, CidrIP: "0.0.0.0/0"}})
	return elem("item",
		el("ownerId", s.acct.ID),
		el("groupId", g.ID),
		el("groupName", g.Name),
		el("groupDescription", g.Description),
		el("vpcId", g.VpcID),
		permissionXML("ipPermissions", g.Ingress),
		egress,
		elem("tagSet"),
	)
}

func ec2DescribeSecurityGroups(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	filters, apiErr := ec2Filters(c, "group-id", "group-name", "description", "vpc-id", "owner-id",
		"ip-permission.cidr", "ip-permission.from-port", "ip-permission.to-port", "ip-permission.protocol")
	if apiErr != nil {
		return nil, apiErr
	}
	ids := listParam(c.Params, "GroupId")
	names := listParam(c.Params, "GroupName")
	for _, id := range ids {
		if _, ok := rs.SecurityGroups[id]; !ok {
			return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	for _, n := range names {
		if groupByName(rs, n) == nil {
			return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", n, s.defaultVpcID(c.Region))
		}
	}
	keys := make([]string, 0, len(rs.SecurityGroups))
	for id := range rs.SecurityGroups {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	start, end, next, apiErr := ec2Page(c, keys, 5, 1000)
	if apiErr != nil {
		return nil, apiErr
	}
	var items []*Node
	for _, id := range keys[start:end] {
		g := rs.SecurityGroups[id]
		if len(ids) > 0 && !slices.Contains(ids, g.ID) || len(names) > 0 && !slices.Contains(names, g.Name) {
			continue
		}
		if !matchFilters(filters, func(name string) []string { return s.groupField(g, name) }) {
			continue
		}
		items = append(items, s.groupXML(g))
	}
	out := []*Node{members("securityGroupInfo", "item", items)}
	if next != "" {
		out = append(out, el("nextToken", next))
	}
	var idSet, nameSet []any
	for _, id := range ids {
		idSet = append(idSet, map[string]any{"groupId": id})
	}
	for _, n := range names {
		nameSet = append(nameSet, map[string]any{"groupName": n})
	}
	req := map[string]any{"securityGroupIdSet": itemSet(idSet), "securityGroupSet": itemSet(nameSet), "filterSet": filterSet(filters)}
	if v, ok, _ := ec2Int(c, "MaxResults"); ok {
		req["maxResults"] = v
	}
	return &Result{XML: out, Request: req}, nil
}

// groupField returns a group's values for a DescribeSecurityGroups filter.
func (s *Sim) groupField(g *SecurityGroup, name string) []string {
	var out []string
	switch name {
	case "group-id":
		return []string{g.ID}
	case "group-name":
		return []string{g.Name}
	case "description":
		return []string{g.Description}
	case "vpc-id":
		return []string{g.VpcID}
	case "owner-id":
		return []string{s.acct.ID}
	case "ip-permission.cidr":
		for _, r := range g.Ingress {
			out = append(out, r.CidrIP)
		}
	case "ip-permission.from-port":
		for _, r := range g.Ingress {
			out = append(out, strconv.Itoa(r.FromPort))
		}
	case "ip-permission.to-port":
		for _, r := range g.Ingress {
			out = append(out, strconv.Itoa(r.ToPort))
		}
	case "ip-permission.protocol":
		for _, r := range g.Ingress {
			out = append(out, r.Protocol)
		}
	}
	return out
}

func ec2CreateSecurityGroup(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	name, desc := c.Param("GroupName"), c.Param("GroupDescription")
	if name == "" {
		return nil, errMissingParam("GroupName")
	}
	if desc == "" {
		return nil, errMissingParam("GroupDescription")
	}
	vpc := c.Param("VpcId")
	if vpc == "" {
		vpc = s.defaultVpcID(c.Region)
	} else if vpc != s.defaultVpcID(c.Region) {
		return nil, errf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpc)
	}
	switch {
	case len(name) > 255 || len(desc) > 255:
		return nil, errEC2Param("Group name and description are limited to 255 characters.")
	case strings.EqualFold(name, "default"):
		return nil, errf(400, "InvalidGroup.Reserved", "The security group 'default' is reserved")
	case strings.HasPrefix(name, "sg-"):
		return nil, errEC2Param("Group names may not be in the format sg-*")
	case groupByName(rs, name) != nil:
		return nil, errf(400, "InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc)
	}
	g := &SecurityGroup{ID: "sg-0" + s.newHex(16), Name: name, Description: desc, VpcID: vpc, CreatedBy: c.Caller().AccessKeyID}
	rs.SecurityGroups[g.ID] = g
	req := map[string]any{"groupName": name, "groupDescription": desc}
	if c.Param("VpcId") != "" {
		req["vpcId"] = vpc
	}
	return &Result{
		XML:       []*Node{el("return", "true"), el("groupId", g.ID), el("securityGroupArn", s.groupARN(c.Region, g.ID))},
		Request:   req,
		Response:  map[string]any{"_return": true, "groupId": g.ID, "securityGroupArn": s.groupARN(c.Region, g.ID)},
		Resources: []EventResource{{Type: "AWS::EC2::SecurityGroup", Name: g.ID}},
	}, nil
}

func ec2DeleteSecurityGroup(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	g, apiErr := s.findGroup(c, rs)
	if apiErr != nil {
		return nil, apiErr
	}
	if g.ID == s.defaultGroupID(c.Region) {
		return nil, errf(400, "CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	for _, i := range rs.Instances {
		if i.State != "terminated" && slices.Contains(i.SecurityGroup, g.ID) {
			return nil, errf(400, "DependencyViolation", "resource %s has a dependent object", g.ID)
		}
	}
	delete(rs.SecurityGroups, g.ID)
	req := map[string]any{}
	if v := c.Param("GroupId"); v != "" {
		req["groupId"] = v
	}
	if v := c.Param("GroupName"); v != "" {
		req["groupName"] = v
	}
	return &Result{
		XML:       []*Node{el("return", "true"), el("groupId", g.ID)},
		Request:   req,
		Response:  map[string]any{"_return": true, "groupId": g.ID},
		Resources: []EventResource{{Type: "AWS::EC2::SecurityGroup", Name: g.ID}},
	}, nil
}

// ingressRules reads the rules of Authorize/RevokeSecurityGroupIngress:
// IpPermissions.N.* or the legacy top-level IpProtocol/FromPort/ToPort/CidrIp.
func ingressRules(c *Call) ([]IngressRule, *APIError) {
	perms := structListParam(c.Params, "IpPermissions")
	if len(perms) == 0 && c.Param("IpProtocol") != "" {
		perms = []map[string]string{{
			"IpProtocol":        c.Param("IpProtocol"),
			"FromPort":          c.Param("FromPort"),
			"ToPort":            c.Param("ToPort"),
			"IpRanges.1.CidrIp": c.Param("CidrIp"),
		}}
		if c.Param("CidrIp") == "" {
			delete(perms[0], "IpRanges.1.CidrIp")
		}
	}
	if len(perms) == 0 {
		return nil, errMissingParam("IpPermissions")
	}
	var out []IngressRule
	for _, p := range perms {
		for k := range p {
			if strings.HasPrefix(k, "Groups.") || strings.HasPrefix(k, "Ipv6Ranges.") || strings.HasPrefix(k, "PrefixListIds.") {
				return nil, errEC2Param("The simulator supports only IPv4 CIDR ranges in security group rules, not %s.", k)
			}
		}
		proto := strings.ToLower(p["IpProtocol"])
		switch proto {
		case "all", "-1":
			proto = "-1"
		case "6":
			proto = "tcp"
		case "17":
			proto = "udp"
		case "1":
			proto = "icmp"
		case "tcp", "udp", "icmp":
		case "":
			return nil, errMissingParam("IpPermissions.N.IpProtocol")
		default:
			return nil, errEC2Param("Invalid value '%s' for IP protocol. Unknown protocol.", p["IpProtocol"])
		}
		from, to := -1, -1
		if proto != "-1" {
			var err1, err2 error
			from, err1 = strconv.Atoi(p["FromPort"])
			to, err2 = strconv.Atoi(p["ToPort"])
			if err1 != nil || err2 != nil {
				return nil, errEC2Param("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
			}
			if proto != "icmp" && (from < 0 || to > 65535 || from > to) {
				return nil, errEC2Param("Invalid value '%d-%d' for portRange", from, to)
			}
		}
		var cidrs []string
		for i := 1; ; i++ {
			v, ok := p["IpRanges."+strconv.Itoa(i)+".CidrIp"]
			if !ok {
				break
			}
			cidrs = append(cidrs, v)
		}
		if len(cidrs) == 0 {
			return nil, errMissingParam("IpPermissions.N.IpRanges")
		}
		for _, cidr := range cidrs {
			if !validCIDR(cidr) {
				return nil, errEC2Param("CIDR block %s is malformed", cidr)
			}
			out = append(out, IngressRule{Protocol: proto, FromPort: from, ToPort: to, CidrIP: cidr})
		}
	}
	return out, nil
}

var cidrPattern = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$`)

func validCIDR(s string) bool {
	m := cidrPattern.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	for _, part := range m[1:5] {
		if n, _ := strconv.Atoi(part); n > 255 {
			return false
		}
	}
	n, _ := strconv.Atoi(m[5])
	return n <= 32
}

func ruleSetXML(g *SecurityGroup, acct string, rules []IngressRule) *Node {
	var items []*Node
	for _, r := range rules {
		item := elem("item", el("securityGroupRuleId", ruleID(g.ID, r)), el("groupId", g.ID),
			el("groupOwnerId", acct), el("isEgress", "false"), el("ipProtocol", r.Protocol))
		item.Kids = append(item.Kids, el("fromPort", strconv.Itoa(r.FromPort)), el("toPort", strconv.Itoa(r.ToPort)),
			el("cidrIpv4", r.CidrIP))
		items = append(items, item)
	}
	return members("securityGroupRuleSet", "item", items)
}

func ec2AuthorizeIngress(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	g, apiErr := s.findGroup(c, rs)
	if apiErr != nil {
		return nil, apiErr
	}
	rules, apiErr := ingressRules(c)
	if apiErr != nil {
		return nil, apiErr
	}
	for k, r := range rules {
		if slices.Contains(g.Ingress, r) || slices.Contains(rules[:k], r) {
			return nil, errf(400, "InvalidPermission.Duplicate",
				"the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists",
				r.CidrIP, strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
		}
	}
	g.Ingress = append(g.Ingress, rules...)
	var recRules []any
	for _, r := range rules {
		recRules = append(recRules, map[string]any{"groupOwnerId": s.acct.ID, "groupId": g.ID,
			"securityGroupRuleId": ruleID(g.ID, r), "isEgress": false, "ipProtocol": r.Protocol,
			"fromPort": r.FromPort, "toPort": r.ToPort, "cidrIpv4": r.CidrIP})
	}
	return &Result{
		XML:       []*Node{el("return", "true"), ruleSetXML(g, s.acct.ID, rules)},
		Request:   map[string]any{"groupId": g.ID, "ipPermissions": permissionRecord(rules)},
		Response:  map[string]any{"_return": true, "securityGroupRuleSet": itemSet(recRules)},
		Resources: []EventResource{{Type: "AWS::EC2::SecurityGroup", Name: g.ID}},
	}, nil
}

// ec2RevokeIngress removes matching rules. Rules that do not exist are not
// an error: AWS returns them in unknownIpPermissionSet.
func ec2RevokeIngress(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	g, apiErr := s.findGroup(c, rs)
	if apiErr != nil {
		return nil, apiErr
	}
	rules, apiErr := ingressRules(c)
	if apiErr != nil {
		return nil, apiErr
	}
	var revoked, unknown []IngressRule
	for _, r := range rules {
		if k := slices.Index(g.Ingress, r); k >= 0 {
			g.Ingress = slices.Delete(g.Ingress, k, k+1)
			revoked = append(revoked, r)
		} else {
			unknown = append(unknown, r)
		}
	}
	out := []*Node{el("return", "true")}
	if len(unknown) > 0 {
		out = append(out, permissionXML("unknownIpPermissionSet", unknown))
	}
	var revokedItems []*Node
	for _, r := range revoked {
		revokedItems = append(revokedItems, elem("item", el("securityGroupRuleId", ruleID(g.ID, r)), el("groupId", g.ID),
			el("isEgress", "false"), el("ipProtocol", r.Protocol), el("fromPort", strconv.Itoa(r.FromPort)),
			el("toPort", strconv.Itoa(r.ToPort)), el("cidrIpv4", r.CidrIP)))
	}
	out = append(out, members("revokedSecurityGroupRuleSet", "item", revokedItems))
	resp := map[string]any{"_return": true}
	if len(unknown) > 0 {
		resp["unknownIpPermissionSet"] = permissionRecord(unknown)
	}
	return &Result{
		XML:       out,
		Request:   map[string]any{"groupId": g.ID, "ipPermissions": permissionRecord(rules)},
		Response:  resp,
		Resources: []EventResource{{Type: "AWS::EC2::SecurityGroup", Name: g.ID}},
	}, nil
}

// ---- key material ----

// newRSAKeyPair makes a 2048-bit RSA key from the simulator's seeded
// generator, so that a seeded scenario gets the same key pairs (and
// fingerprints in its CloudTrail records) every run; crypto/rsa ignores
// custom randomness. It returns the PEM private key and AWS's fingerprint of
// a created RSA key: the SHA-1 digest of the PKCS#8 DER private key.
func (s *Sim) newRSAKeyPair() (material, fingerprint string, err error) {
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		p, q := s.randPrime(1024), s.randPrime(1024)
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if n.BitLen() != 2048 || d == nil {
			continue
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return "", "", fmt.Errorf("validate rsa key: %w", err)
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", "", fmt.Errorf("marshal rsa key: %w", err)
		}
		sum := sha1.Sum(pkcs8)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		return strings.TrimSuffix(string(pemKey), "\n"), colonHex(sum[:]), nil
	}
}

// randPrime returns a prime of exactly bits bits (top two bits set, so that
// the product of two has twice the bits) from the seeded generator.
func (s *Sim) randPrime(bits int) *big.Int {
	b := make([]byte, bits/8)
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[0] |= 0xc0
	b[len(b)-1] |= 1
	if p, ok := primeCache.Load(string(b)); ok {
		return new(big.Int).Set(p.(*big.Int))
	}
	p := new(big.Int).SetBytes(b)
	two := big.NewInt(2)
	for !p.ProbablyPrime(20) {
		p.Add(p, two)
	}
	if primeCacheSize.Add(1) <= primeCacheMax {
		primeCache.Store(string(b), new(big.Int).Set(p))
	}
	return p
}

// primeCache holds the prime found from each starting point randPrime
// drew, for the life of the process: the prime is a function of the drawn
// bytes alone, and simulators made from one scenario and seed (every test
// of a package, the demo's runs) draw the same ones. Searching takes about
// a second a key under the race detector. At most primeCacheMax are kept,
// so that a long-lived simulator making keys all day does not grow it
// without end.
var (
	primeCache     sync.Map // string(start bytes) -> *big.Int
	primeCacheSize atomic.Int64
)

const primeCacheMax = 1024

// newEd25519KeyPair makes an ED25519 key from the seeded generator and
// returns it in OpenSSH's private key format, as AWS does, with AWS's
// fingerprint of ED25519 keys: the base64 SHA-256 digest of the public key.
func (s *Sim) newEd25519KeyPair() (material, fingerprint string, err error) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(s.rng.UintN(256))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	pubBlob := sshString(nil, []byte("ssh-ed25519"))
	pubBlob = sshString(pubBlob, pub)

	check := binary.BigEndian.AppendUint32(nil, s.rng.Uint32())
	private := append(check, check...)
	private = sshString(private, []byte("ssh-ed25519"))
	private = sshString(private, pub)
	private = sshString(private, priv)
	private = sshString(private, nil) // comment
	for pad := byte(1); len(private)%8 != 0; pad++ {
		private = append(private, pad)
	}
	blob := []byte("openssh-key-v1\x00")
	blob = sshString(blob, []byte("none"))
	blob = sshString(blob, []byte("none"))
	blob = sshString(blob, nil)
	blob = binary.BigEndian.AppendUint32(blob, 1)
	blob = sshString(blob, pubBlob)
	blob = sshString(blob, private)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: blob})
	sum := sha256.Sum256(pubBlob)
	return strings.TrimSuffix(string(pemKey), "\n"), base64.StdEncoding.EncodeToString(sum[:]), nil
}

// sshString appends an SSH wire-format string (uint32 length, bytes).
func sshString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// readSSHString reads an SSH wire-format string.
func readSSHString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// importedFingerprint checks an OpenSSH public key line ("ssh-rsa AAAA…
// comment" or "ssh-ed25519 AAAA…") and returns AWS's fingerprint of an
// imported key: the MD5 digest of the DER public key for RSA, the base64
// SHA-256 digest for ED25519.
func importedFingerprint(line []byte) (string, *APIError) {
	bad := errf(400, "InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	fields := strings.Fields(string(line))
	if len(fields) < 2 {
		return "", bad
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return "", bad
	}
	kind, rest, ok := readSSHString(blob)
	if !ok || string(kind) != fields[0] {
		return "", bad
	}
	switch fields[0] {
	case "ssh-rsa":
		e, rest, ok1 := readSSHString(rest)
		n, _, ok2 := readSSHString(rest)
		if !ok1 || !ok2 || len(e) > 4 {
			return "", bad
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 1024 || pub.E < 3 {
			return "", bad
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", bad
		}
		sum := md5.Sum(der)
		return colonHex(sum[:]), nil
	case "ssh-ed25519":
		key, _, ok := readSSHString(rest)
		if !ok || len(key) != ed25519.PublicKeySize {
			return "", bad
		}
		sum := sha256.Sum256(blob)
		return base64.StdEncoding.EncodeToString(sum[:]), nil
	}
	return "", bad
}
