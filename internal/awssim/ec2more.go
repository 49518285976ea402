package awssim

import (
	"sort"
	"strings"
)

// EC2 beyond instances, key pairs and security groups: what starts
// instances again (spot requests, spot fleets, EC2 Fleets, launch
// templates) and what leaves the account with its data (images and
// snapshots shared with another account). The simulator starts no
// instances for requests and fleets: they are kept with their state.

const (
	typeSpotRequest    = "AWS::EC2::SpotInstanceRequest"
	typeSpotFleet      = "AWS::EC2::SpotFleet"
	typeEC2Fleet       = "AWS::EC2::EC2Fleet"
	typeLaunchTemplate = "AWS::EC2::LaunchTemplate"
	typeImage          = "AWS::EC2::Image"
	typeVolume         = "AWS::EC2::Volume"
	typeSnapshot       = "AWS::EC2::Snapshot"
	typeSnapshotShare  = "AWS::EC2::SnapshotPermission"
	typeImageShare     = "AWS::EC2::ImagePermission"
)

func ec2MoreOps() map[string]handler {
	return map[string]handler{
		"RequestSpotInstances":         ec2RequestSpotInstances,
		"DescribeSpotInstanceRequests": ec2DescribeSpotInstanceRequests,
		"CancelSpotInstanceRequests":   ec2CancelSpotInstanceRequests,
		"RequestSpotFleet":             ec2RequestSpotFleet,
		"DescribeSpotFleetRequests":    ec2DescribeSpotFleetRequests,
		"CancelSpotFleetRequests":      ec2CancelSpotFleetRequests,
		"CreateFleet":                  ec2CreateFleet,
		"DescribeFleets":               ec2DescribeFleets,
		"DeleteFleets":                 ec2DeleteFleets,
		"CreateLaunchTemplate":         ec2CreateLaunchTemplate,
		"DescribeLaunchTemplates":      ec2DescribeLaunchTemplates,
		"DeleteLaunchTemplate":         ec2DeleteLaunchTemplate,
		"CreateImage":                  ec2CreateImage,
		"CreateVolume":                 ec2CreateVolume,
		"CreateSnapshot":               ec2CreateSnapshot,
		"ModifyImageAttribute":         ec2ModifyImageAttribute,
		"DescribeImageAttribute":       ec2DescribeImageAttribute,
		"ModifySnapshotAttribute":      ec2ModifySnapshotAttribute,
		"DescribeSnapshotAttribute":    ec2DescribeSnapshotAttribute,
	}
}

// ---- spot instance requests ----

func spotRequestXML(o *object) *Node {
	code := map[string]string{"open": "pending-evaluation", "active": "fulfilled", "cancelled": "canceled-before-fulfillment"}[o.Status]
	var inst *Node
	if id := str(o.Attrs, "instanceId"); id != "" {
		inst = el("instanceId", id)
		if o.Status == "cancelled" {
			code = "request-canceled-and-instance-running"
		}
	}
	return elem("item", el("spotInstanceRequestId", o.ID), el("spotPrice", str(o.Attrs, "spotPrice")), el("type", "one-time"),
		el("state", o.Status), elem("status", el("code", code), el("updateTime", isoTime(o.Created))), inst,
		elem("launchSpecification", el("imageId", str(o.Attrs, "imageId")), el("instanceType", str(o.Attrs, "instanceType"))),
		el("createTime", isoTime(o.Created)), el("productDescription", "Linux/UNIX"))
}

func ec2RequestSpotInstances(s *Sim, c *Call) (*Result, error) {
	image, itype := c.Param("LaunchSpecification.ImageId"), c.Param("LaunchSpecification.InstanceType")
	if image == "" {
		return nil, errMissingParam("LaunchSpecification.ImageId")
	}
	n := atoi(c.Param("InstanceCount"))
	if n == 0 {
		n = 1
	}
	res := &Result{}
	var xml []*Node
	var items []any
	rs := s.acct.region(c.Region)
	for range n {
		o := s.put(c, typeSpotRequest, "sir-"+s.newHex(8))
		o.Status = "open"
		o.Attrs = map[string]any{"imageId": image, "instanceType": itype, "spotPrice": c.Param("SpotPrice")}
		xml = append(xml, spotRequestXML(o))
		// EC2 fulfils it at once: the instance is the request's, not a
		// RunInstances of the caller's, and cancelling the request leaves
		// it running, as in AWS.
		inst := &Instance{ID: "i-0" + s.newHex(16), ImageID: image, InstanceType: itype, State: "running", LaunchTime: c.Time.UTC(), CreatedBy: c.Caller().AccessKeyID}
		rs.Instances[inst.ID] = inst
		o.Status, o.Attrs["instanceId"] = "active", inst.ID
		items = append(items, map[string]any{"spotInstanceRequestId": o.ID, "state": "open", "type": "one-time",
			"launchSpecification": map[string]any{"imageId": image, "instanceType": itype}, "createTime": c.Time.UnixMilli()})
		res.Resources = append(res.Resources, made(o)...)
	}
	res.XML = []*Node{members("spotInstanceRequestSet", "item", xml)}
	res.Request = map[string]any{"instanceCount": n, "launchSpecification": map[string]any{"imageId": image, "instanceType": itype}}
	res.Response = map[string]any{"spotInstanceRequestSet": itemSet(items)}
	return res, nil
}

// spotRequests resolves SpotInstanceRequestId.N; cancelled requests are
// still described, as EC2 does for a while.
func (s *Sim) spotRequests(c *Call) ([]*object, *APIError) {
	ids := listParam(c.Params, "SpotInstanceRequestId")
	all := s.acct.region(c.Region).objectsOf(typeSpotRequest)
	if len(ids) == 0 {
		return s.live(c.Region, typeSpotRequest), nil
	}
	var out []*object
	for _, id := range ids {
		o := all[id]
		if o == nil {
			return nil, errf(400, "InvalidSpotInstanceRequestID.NotFound", "The spot instance request ID '%s' does not exist", id)
		}
		out = append(out, o)
	}
	return out, nil
}

func ec2DescribeSpotInstanceRequests(s *Sim, c *Call) (*Result, error) {
	reqs, apiErr := s.spotRequests(c)
	if apiErr != nil {
		return nil, apiErr
	}
	var xml []*Node
	for _, o := range reqs {
		xml = append(xml, spotRequestXML(o))
	}
	return &Result{XML: []*Node{members("spotInstanceRequestSet", "item", xml)}}, nil
}

func ec2CancelSpotInstanceRequests(s *Sim, c *Call) (*Result, error) {
	reqs, apiErr := s.spotRequests(c)
	if apiErr != nil {
		return nil, apiErr
	}
	res := &Result{}
	var xml []*Node
	var items []any
	for _, o := range reqs {
		o.Status = "cancelled"
		o.drop("cancelled")
		xml = append(xml, elem("item", el("spotInstanceRequestId", o.ID), el("state", "cancelled")))
		items = append(items, map[string]any{"spotInstanceRequestId": o.ID, "state": "cancelled"})
		res.Resources = append(res.Resources, made(o)...)
	}
	res.XML = []*Node{members("spotInstanceRequestSet", "item", xml)}
	res.Request = map[string]any{"spotInstanceRequestIdSet": itemSet(idItems("spotInstanceRequestId", listParam(c.Params, "SpotInstanceRequestId")))}
	res.Response = map[string]any{"spotInstanceRequestSet": itemSet(items)}
	return res, nil
}

func idItems(key string, ids []string) []any {
	var out []any
	for _, id := range ids {
		out = append(out, map[string]any{key: id})
	}
	return out
}

// ---- spot fleets ----

func ec2RequestSpotFleet(s *Sim, c *Call) (*Result, error) {
	role, target := c.Param("SpotFleetRequestConfig.IamFleetRole"), c.Param("SpotFleetRequestConfig.TargetCapacity")
	if role == "" || target == "" {
		return nil, errMissingParam("SpotFleetRequestConfig.IamFleetRole and TargetCapacity")
	}
	o := s.put(c, typeSpotFleet, "sfr-"+s.newUUID())
	o.Status = "active"
	o.Attrs = map[string]any{"targetCapacity": target, "iamFleetRole": role}
	// CloudTrail records RequestSpotFleet wrapped in its request and
	// response names.
	return &Result{
		XML:       []*Node{el("spotFleetRequestId", o.ID)},
		Request:   map[string]any{"RequestSpotFleetRequest": map[string]any{"SpotFleetRequestConfig": map[string]any{"IamFleetRole": role, "TargetCapacity": atoi(target)}}},
		Response:  map[string]any{"RequestSpotFleetResponse": map[string]any{"spotFleetRequestId": o.ID, "xmlns": xmlNamespace("ec2")}},
		Resources: made(o),
	}, nil
}

func ec2DescribeSpotFleetRequests(s *Sim, c *Call) (*Result, error) {
	ids := listParam(c.Params, "SpotFleetRequestId")
	all := s.acct.region(c.Region).objectsOf(typeSpotFleet)
	var list []*object
	if len(ids) == 0 {
		list = s.live(c.Region, typeSpotFleet)
	}
	for _, id := range ids {
		o := all[id]
		if o == nil {
			return nil, errf(400, "InvalidSpotFleetRequestId.NotFound", "The spot fleet request ID '%s' does not exist", id)
		}
		list = append(list, o)
	}
	var xml []*Node
	for _, o := range list {
		xml = append(xml, elem("item", el("spotFleetRequestId", o.ID), el("spotFleetRequestState", o.Status), el("createTime", isoTime(o.Created)),
			el("activityStatus", "fulfilled"),
			elem("spotFleetRequestConfig", el("iamFleetRole", str(o.Attrs, "iamFleetRole")), el("targetCapacity", str(o.Attrs, "targetCapacity")))))
	}
	return &Result{XML: []*Node{members("spotFleetRequestConfigSet", "item", xml)}}, nil
}

func ec2CancelSpotFleetRequests(s *Sim, c *Call) (*Result, error) {
	ids := listParam(c.Params, "SpotFleetRequestId")
	if len(ids) == 0 {
		return nil, errMissingParam("SpotFleetRequestId")
	}
	if c.Param("TerminateInstances") == "" {
		return nil, errMissingParam("TerminateInstances")
	}
	res := &Result{}
	var ok, bad []*Node
	for _, id := range ids {
		o := s.obj(c.Region, typeSpotFleet, id)
		if o == nil {
			bad = append(bad, elem("item", el("spotFleetRequestId", id),
				elem("error", el("code", "fleetRequestIdDoesNotExist"), el("message", "The spot fleet request ID '"+id+"' does not exist"))))
			continue
		}
		prev := o.Status
		o.Status = "cancelled"
		o.drop("cancelled")
		ok = append(ok, elem("item", el("spotFleetRequestId", id), el("currentSpotFleetRequestState", "cancelled_terminating"), el("previousSpotFleetRequestState", prev)))
		res.Resources = append(res.Resources, made(o)...)
	}
	res.XML = []*Node{members("successfulFleetRequestSet", "item", ok), members("unsuccessfulFleetRequestSet", "item", bad)}
	res.Request = map[string]any{"CancelSpotFleetRequestsRequest": map[string]any{"SpotFleetRequestId": ids, "TerminateInstances": c.Param("TerminateInstances") == "true"}}
	return res, nil
}

// ---- EC2 Fleets ----

func ec2CreateFleet(s *Sim, c *Call) (*Result, error) {
	target := c.Param("TargetCapacitySpecification.TotalTargetCapacity")
	lt := c.Param("LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId")
	if lt == "" {
		lt = c.Param("LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName")
	}
	if target == "" || lt == "" {
		return nil, errMissingParam("TargetCapacitySpecification and LaunchTemplateConfigs")
	}
	typ := c.Param("Type")
	if typ == "" {
		typ = "maintain"
	}
	o := s.put(c, typeEC2Fleet, "fleet-"+s.newUUID())
	o.Status = "active"
	o.Attrs = map[string]any{"type": typ, "target": target, "launchTemplate": lt}
	return &Result{
		XML:       []*Node{el("fleetId", o.ID), elem("errorSet"), elem("fleetInstanceSet")},
		Request:   map[string]any{"CreateFleetRequest": map[string]any{"Type": typ, "TargetCapacitySpecification": map[string]any{"TotalTargetCapacity": atoi(target)}}},
		Response:  map[string]any{"CreateFleetResponse": map[string]any{"fleetId": o.ID, "errorSet": "", "fleetInstanceSet": "", "xmlns": xmlNamespace("ec2")}},
		Resources: made(o),
	}, nil
}

func ec2DescribeFleets(s *Sim, c *Call) (*Result, error) {
	ids := listParam(c.Params, "FleetId")
	all := s.acct.region(c.Region).objectsOf(typeEC2Fleet)
	var list []*object
	if len(ids) == 0 {
		list = s.live(c.Region, typeEC2Fleet)
	}
	for _, id := range ids {
		o := all[id]
		if o == nil {
			return nil, errf(400, "InvalidFleetId.NotFound", "The fleet ID '%s' does not exist", id)
		}
		list = append(list, o)
	}
	var xml []*Node
	for _, o := range list {
		xml = append(xml, elem("item", el("fleetId", o.ID), el("fleetState", o.Status), el("type", str(o.Attrs, "type")), el("createTime", isoTime(o.Created)),
			el("activityStatus", "fulfilled"), elem("targetCapacitySpecification", el("totalTargetCapacity", str(o.Attrs, "target")))))
	}
	return &Result{XML: []*Node{members("fleetSet", "item", xml)}}, nil
}

func ec2DeleteFleets(s *Sim, c *Call) (*Result, error) {
	ids := listParam(c.Params, "FleetId")
	if len(ids) == 0 || c.Param("TerminateInstances") == "" {
		return nil, errMissingParam("FleetId and TerminateInstances")
	}
	res := &Result{}
	var ok, bad []*Node
	for _, id := range ids {
		o := s.obj(c.Region, typeEC2Fleet, id)
		if o == nil {
			bad = append(bad, elem("item", el("fleetId", id), elem("error", el("code", "fleetIdDoesNotExist"), el("message", "The fleet ID '"+id+"' does not exist"))))
			continue
		}
		prev := o.Status
		o.Status = "deleted"
		o.drop("deleted")
		ok = append(ok, elem("item", el("fleetId", id), el("currentFleetState", "deleted_terminating"), el("previousFleetState", prev)))
		res.Resources = append(res.Resources, made(o)...)
	}
	res.XML = []*Node{members("successfulFleetDeletionSet", "item", ok), members("unsuccessfulFleetDeletionSet", "item", bad)}
	res.Request = map[string]any{"DeleteFleetsRequest": map[string]any{"FleetId": ids, "TerminateInstances": c.Param("TerminateInstances") == "true"}}
	return res, nil
}

// ---- launch templates ----

func launchTemplateXML(s *Sim, o *object) *Node {
	return elem("launchTemplate", el("launchTemplateId", o.ID), el("launchTemplateName", str(o.Attrs, "name")), el("createTime", isoTime(o.Created)),
		el("createdBy", "arn:aws:iam::"+s.acct.ID+":user/"+str(o.Attrs, "by")), el("defaultVersionNumber", "1"), el("latestVersionNumber", "1"))
}

func ec2CreateLaunchTemplate(s *Sim, c *Call) (*Result, error) {
	name := c.Param("LaunchTemplateName")
	if name == "" {
		return nil, errMissingParam("LaunchTemplateName")
	}
	for _, o := range s.live(c.Region, typeLaunchTemplate) {
		if o.Attrs["name"] == name {
			return nil, errf(400, "InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
		}
	}
	o := s.put(c, typeLaunchTemplate, "lt-"+s.newHex(17))
	by := ""
	if cr := c.Caller(); cr != nil {
		by = cr.UserName
	}
	o.Attrs = map[string]any{"name": name, "by": by, "imageId": c.Param("LaunchTemplateData.ImageId"), "instanceType": c.Param("LaunchTemplateData.InstanceType")}
	data := map[string]any{"ImageId": c.Param("LaunchTemplateData.ImageId"), "InstanceType": c.Param("LaunchTemplateData.InstanceType")}
	if c.Param("LaunchTemplateData.UserData") != "" {
		data["UserData"] = "<sensitiveDataRemoved>"
	}
	lt := map[string]any{"launchTemplateId": o.ID, "launchTemplateName": name, "createTime": c.Time.UnixMilli(), "defaultVersionNumber": 1, "latestVersionNumber": 1}
	return &Result{
		XML:       []*Node{launchTemplateXML(s, o)},
		Request:   map[string]any{"CreateLaunchTemplateRequest": map[string]any{"LaunchTemplateName": name, "LaunchTemplateData": data}},
		Response:  map[string]any{"CreateLaunchTemplateResponse": map[string]any{"launchTemplate": lt, "xmlns": xmlNamespace("ec2")}},
		Resources: made(o),
	}, nil
}

func (s *Sim) launchTemplate(c *Call, id, name string) *object {
	if id != "" {
		return s.obj(c.Region, typeLaunchTemplate, id)
	}
	for _, o := range s.live(c.Region, typeLaunchTemplate) {
		if o.Attrs["name"] == name {
			return o
		}
	}
	return nil
}

func ec2DescribeLaunchTemplates(s *Sim, c *Call) (*Result, error) {
	ids, names := listParam(c.Params, "LaunchTemplateId"), listParam(c.Params, "LaunchTemplateName")
	var list []*object
	if len(ids) == 0 && len(names) == 0 {
		list = s.live(c.Region, typeLaunchTemplate)
	}
	for _, id := range ids {
		o := s.launchTemplate(c, id, "")
		if o == nil {
			return nil, errf(400, "InvalidLaunchTemplateId.NotFound", "At least one of the launch templates specified in the request does not exist.")
		}
		list = append(list, o)
	}
	for _, n := range names {
		o := s.launchTemplate(c, "", n)
		if o == nil {
			return nil, errf(400, "InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
		}
		list = append(list, o)
	}
	var xml []*Node
	for _, o := range list {
		n := launchTemplateXML(s, o)
		n.Name = "item"
		xml = append(xml, n)
	}
	return &Result{XML: []*Node{members("launchTemplates", "item", xml)}}, nil
}

func ec2DeleteLaunchTemplate(s *Sim, c *Call) (*Result, error) {
	id, name := c.Param("LaunchTemplateId"), c.Param("LaunchTemplateName")
	if id == "" && name == "" {
		return nil, errMissingParam("LaunchTemplateId or LaunchTemplateName")
	}
	o := s.launchTemplate(c, id, name)
	if o == nil {
		if id != "" {
			return nil, errf(400, "InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
		}
		return nil, errf(400, "InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
	}
	o.drop("deleted")
	req := map[string]any{"DeleteLaunchTemplateRequest": map[string]any{"LaunchTemplateId": id, "LaunchTemplateName": name}}
	return &Result{XML: []*Node{launchTemplateXML(s, o)}, Request: req, Resources: made(o)}, nil
}

// ---- images, volumes, snapshots and their sharing ----

func ec2CreateImage(s *Sim, c *Call) (*Result, error) {
	id, name := c.Param("InstanceId"), c.Param("Name")
	if id == "" || name == "" {
		return nil, errMissingParam("InstanceId and Name")
	}
	if _, apiErr := lookupInstances(s.acct.region(c.Region), []string{id}); apiErr != nil {
		return nil, apiErr
	}
	o := s.put(c, typeImage, "ami-"+s.newHex(17))
	o.Attrs = map[string]any{"name": name, "instanceId": id, "launch": map[string]bool{}}
	return &Result{XML: []*Node{el("imageId", o.ID)}, Request: map[string]any{"instanceId": id, "name": name},
		Response: map[string]any{"imageId": o.ID}, Resources: made(o)}, nil
}

func ec2CreateVolume(s *Sim, c *Call) (*Result, error) {
	az := c.Param("AvailabilityZone")
	if az == "" || !strings.HasPrefix(az, c.Region) {
		return nil, errf(400, "InvalidParameterValue", "Invalid availability zone: [%s]", az)
	}
	size := c.Param("Size")
	if size == "" {
		size = "8"
	}
	o := s.put(c, typeVolume, "vol-"+s.newHex(17))
	o.Status = "available"
	o.Attrs = map[string]any{"size": size, "az": az}
	return &Result{XML: []*Node{el("volumeId", o.ID), el("size", size), el("availabilityZone", az), el("status", "creating"), el("createTime", isoTime(c.Time)), el("volumeType", "gp3")},
		Request:  map[string]any{"availabilityZone": az, "size": atoi(size)},
		Response: map[string]any{"volumeId": o.ID, "size": atoi(size), "availabilityZone": az, "status": "creating", "volumeType": "gp3"}, Resources: made(o)}, nil
}

func ec2CreateSnapshot(s *Sim, c *Call) (*Result, error) {
	vol := c.Param("VolumeId")
	if vol == "" {
		return nil, errMissingParam("VolumeId")
	}
	v := s.obj(c.Region, typeVolume, vol)
	if v == nil {
		return nil, errf(400, "InvalidVolume.NotFound", "The volume '%s' does not exist.", vol)
	}
	o := s.put(c, typeSnapshot, "snap-"+s.newHex(17))
	o.Status = "completed"
	o.Attrs = map[string]any{"volumeId": vol, "create": map[string]bool{}}
	return &Result{XML: []*Node{el("snapshotId", o.ID), el("volumeId", vol), el("status", "pending"), el("startTime", isoTime(c.Time)), el("ownerId", s.acct.ID), el("volumeSize", str(v.Attrs, "size"))},
		Request:  map[string]any{"volumeId": vol},
		Response: map[string]any{"snapshotId": o.ID, "volumeId": vol, "status": "pending", "ownerId": s.acct.ID, "volumeSize": atoi(str(v.Attrs, "size"))}, Resources: made(o)}, nil
}

// permissionChange reads the accounts and groups added and removed by a
// Modify*Attribute call: Perm.Add.N.UserId / .Group, or the older
// UserId.N / UserGroup.N with OperationType.
func permissionChange(c *Call, perm string) (add, remove []string) {
	for _, op := range []string{"Add", "Remove"} {
		for _, item := range structListParam(c.Params, perm+"."+op) {
			who := item["UserId"]
			if who == "" {
				who = item["Group"]
			}
			if who == "" {
				continue
			}
			if op == "Add" {
				add = append(add, who)
			} else {
				remove = append(remove, who)
			}
		}
	}
	who := append(listParam(c.Params, "UserId"), listParam(c.Params, "UserGroup")...)
	switch c.Param("OperationType") {
	case "add":
		add = append(add, who...)
	case "remove":
		remove = append(remove, who...)
	}
	return add, remove
}

// share applies a permission change to an image or snapshot: each account
// added is a share (an object of the share type, made by the caller), each
// removed one a share undone.
func (s *Sim) share(c *Call, o *object, typ, key, perm, recordKey string) *Result {
	add, remove := permissionChange(c, perm)
	set := o.Attrs[key].(map[string]bool)
	res := &Result{XML: []*Node{el("return", "true")}, Response: map[string]any{"_return": true}}
	var addItems, removeItems []any
	for _, who := range add {
		set[who] = true
		sh := s.put(c, typ, o.ID+"/"+who)
		res.Resources = append(res.Resources, made(sh)...)
		addItems = append(addItems, shareItem(who))
	}
	for _, who := range remove {
		delete(set, who)
		if sh := s.obj(c.Region, typ, o.ID+"/"+who); sh != nil {
			sh.drop("unshared")
			res.Resources = append(res.Resources, made(sh)...)
		}
		removeItems = append(removeItems, shareItem(who))
	}
	change := map[string]any{}
	if len(addItems) > 0 {
		change["add"] = itemSet(addItems)
	}
	if len(removeItems) > 0 {
		change["remove"] = itemSet(removeItems)
	}
	res.Request = map[string]any{recordKey: o.ID, lowerInitial(perm): change}
	return res
}

func shareItem(who string) map[string]any {
	if who == "all" {
		return map[string]any{"group": "all"}
	}
	return map[string]any{"userId": who}
}

func ec2ModifyImageAttribute(s *Sim, c *Call) (*Result, error) {
	o := s.obj(c.Region, typeImage, c.Param("ImageId"))
	if o == nil {
		return nil, errf(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", c.Param("ImageId"))
	}
	res := s.share(c, o, typeImageShare, "launch", "LaunchPermission", "imageId")
	res.Request["attributeType"] = "launchPermission"
	return res, nil
}

func ec2DescribeImageAttribute(s *Sim, c *Call) (*Result, error) {
	o := s.obj(c.Region, typeImage, c.Param("ImageId"))
	if o == nil {
		return nil, errf(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", c.Param("ImageId"))
	}
	if c.Param("Attribute") != "launchPermission" {
		return nil, errf(400, "InvalidParameterValue", "The simulator describes only the launchPermission attribute.")
	}
	return &Result{XML: []*Node{el("imageId", o.ID), members("launchPermission", "item", permissionItems(o.Attrs["launch"].(map[string]bool)))}}, nil
}

func ec2ModifySnapshotAttribute(s *Sim, c *Call) (*Result, error) {
	o := s.obj(c.Region, typeSnapshot, c.Param("SnapshotId"))
	if o == nil {
		return nil, errf(400, "InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", c.Param("SnapshotId"))
	}
	res := s.share(c, o, typeSnapshotShare, "create", "CreateVolumePermission", "snapshotId")
	res.Request["attributeType"] = "CREATE_VOLUME_PERMISSION"
	return res, nil
}

func ec2DescribeSnapshotAttribute(s *Sim, c *Call) (*Result, error) {
	o := s.obj(c.Region, typeSnapshot, c.Param("SnapshotId"))
	if o == nil {
		return nil, errf(400, "InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", c.Param("SnapshotId"))
	}
	if c.Param("Attribute") != "createVolumePermission" {
		return nil, errf(400, "InvalidParameterValue", "The simulator describes only the createVolumePermission attribute.")
	}
	return &Result{XML: []*Node{el("snapshotId", o.ID), members("createVolumePermission", "item", permissionItems(o.Attrs["create"].(map[string]bool)))}}, nil
}

func permissionItems(set map[string]bool) []*Node {
	var out []*Node
	for _, who := range sortedKeys(set) {
		if who == "all" {
			out = append(out, elem("item", el("group", "all")))
		} else {
			out = append(out, elem("item", el("userId", who)))
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
