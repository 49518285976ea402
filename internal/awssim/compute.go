package awssim

import (
	"net/http"
	"strconv"
	"strings"
)

// The compute services an attacker mines with besides EC2, each with the
// calls that make, describe and remove its resources: Auto Scaling
// (awsQuery), ECS, Lightsail, SageMaker, CodeBuild and Glue (JSON 1.1),
// EKS and Batch (REST JSON). The simulator starts no instances for them:
// their resources are kept with their status, and the removal calls
// refuse what AWS refuses (a cluster that still has services, a compute
// environment not disabled, a notebook not stopped).

// Types of the objects, as keyleak and CloudFormation name them.
const (
	typeASG         = "AWS::AutoScaling::AutoScalingGroup"
	typeECSCluster  = "AWS::ECS::Cluster"
	typeECSService  = "AWS::ECS::Service"
	typeECSTask     = "AWS::ECS::Task"
	typeEKSCluster  = "AWS::EKS::Cluster"
	typeEKSNodes    = "AWS::EKS::Nodegroup"
	typeBatchCE     = "AWS::Batch::ComputeEnvironment"
	typeLightsail   = "AWS::Lightsail::Instance"
	typeNotebook    = "AWS::SageMaker::NotebookInstance"
	typeSMEndpoint  = "AWS::SageMaker::Endpoint"
	typeTrainingJob = "AWS::SageMaker::TrainingJob"
	typeCodeBuild   = "AWS::CodeBuild::Project"
	typeGlueDev     = "AWS::Glue::DevEndpoint"
	typeGlueJob     = "AWS::Glue::Job"
)

// ---- Auto Scaling (awsQuery) ----

func autoscalingOps() map[string]handler {
	return map[string]handler{
		"CreateAutoScalingGroup":    asgCreate,
		"DescribeAutoScalingGroups": asgDescribe,
		"DeleteAutoScalingGroup":    asgDelete,
	}
}

func asgCreate(s *Sim, c *Call) (*Result, error) {
	name := c.Param("AutoScalingGroupName")
	if name == "" {
		return nil, errValidation("1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null")
	}
	if s.obj(c.Region, typeASG, name) != nil {
		return nil, errf(400, "AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
	}
	lt := map[string]any{}
	for _, k := range []string{"LaunchTemplateId", "LaunchTemplateName", "Version"} {
		if v := c.Param("LaunchTemplate." + k); v != "" {
			lt[lowerInitial(k)] = v
		}
	}
	if len(lt) == 0 && c.Param("LaunchConfigurationName") == "" && c.Param("InstanceId") == "" && c.Param("MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId") == "" {
		return nil, errValidation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	o := s.put(c, typeASG, name)
	o.ARN = s.arn("autoscaling", c.Region, "autoScalingGroup:"+s.newUUID()+":autoScalingGroupName/"+name)
	for _, k := range []string{"MinSize", "MaxSize", "DesiredCapacity"} {
		o.Attrs[k] = c.Param(k)
	}
	if o.Attrs["DesiredCapacity"] == "" {
		o.Attrs["DesiredCapacity"] = c.Param("MinSize")
	}
	req := map[string]any{"autoScalingGroupName": name, "minSize": atoi(c.Param("MinSize")), "maxSize": atoi(c.Param("MaxSize"))}
	if len(lt) > 0 {
		req["launchTemplate"] = lt
	}
	if v := c.Param("DesiredCapacity"); v != "" {
		req["desiredCapacity"] = atoi(v)
	}
	if v := c.Param("VPCZoneIdentifier"); v != "" {
		req["vPCZoneIdentifier"] = v
	}
	return &Result{Request: req, Resources: made(o)}, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func asgDescribe(s *Sim, c *Call) (*Result, error) {
	names := listParam(c.Params, "AutoScalingGroupNames.member")
	var groups []*object
	if len(names) == 0 {
		groups = s.live(c.Region, typeASG)
	}
	for _, n := range names {
		if o := s.obj(c.Region, typeASG, n); o != nil {
			groups = append(groups, o)
		}
	}
	var nodes []*Node
	for _, o := range groups {
		nodes = append(nodes, elem("member",
			el("AutoScalingGroupName", o.ID), el("AutoScalingGroupARN", o.ARN),
			el("MinSize", str(o.Attrs, "MinSize")), el("MaxSize", str(o.Attrs, "MaxSize")),
			el("DesiredCapacity", str(o.Attrs, "DesiredCapacity")), el("DefaultCooldown", "300"),
			members("AvailabilityZones", "member", []*Node{el("", c.Region+"a")}),
			el("HealthCheckType", "EC2"), el("HealthCheckGracePeriod", "0"),
			members("Instances", "member", nil), el("CreatedTime", isoTime(o.Created))))
	}
	req := map[string]any{}
	if len(names) > 0 {
		req["autoScalingGroupNames"] = names
	}
	return &Result{XML: []*Node{members("AutoScalingGroups", "member", nodes)}, Request: req}, nil
}

func asgDelete(s *Sim, c *Call) (*Result, error) {
	name := c.Param("AutoScalingGroupName")
	o := s.obj(c.Region, typeASG, name)
	if o == nil {
		return nil, errValidation("AutoScalingGroup name not found - AutoScalingGroup '%s' not found", name)
	}
	force := c.Param("ForceDelete") == "true"
	if !force && atoi(str(o.Attrs, "DesiredCapacity")) > 0 {
		return nil, errf(400, "ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
	}
	o.drop("deleted")
	req := map[string]any{"autoScalingGroupName": name}
	if c.Param("ForceDelete") != "" {
		req["forceDelete"] = force
	}
	return &Result{Request: req, Resources: made(o)}, nil
}

// ---- ECS (JSON 1.1) ----

func ecsOps() map[string]handler {
	return map[string]handler{
		"CreateCluster":    ecsCreateCluster,
		"DescribeClusters": ecsDescribeClusters,
		"DeleteCluster":    ecsDeleteCluster,
		"CreateService":    ecsCreateService,
		"DescribeServices": ecsDescribeServices,
		"DeleteService":    ecsDeleteService,
		"RunTask":          ecsRunTask,
		"DescribeTasks":    ecsDescribeTasks,
		"StopTask":         ecsStopTask,
	}
}

func (s *Sim) ecsCluster(c *Call, ref string) (*object, *APIError) {
	if ref == "" {
		ref = "default"
	}
	if o := s.obj(c.Region, typeECSCluster, lastPart(ref)); o != nil {
		return o, nil
	}
	return nil, errJSON("ClusterNotFoundException", "Cluster not found.")
}

func ecsClusterJSON(s *Sim, o *object) map[string]any {
	active, tasks := 0, 0
	for _, sv := range s.live(o.Attrs["region"].(string), typeECSService) {
		if sv.Attrs["cluster"] == o.ID {
			active++
		}
	}
	for _, t := range s.live(o.Attrs["region"].(string), typeECSTask) {
		if t.Attrs["cluster"] == o.ID {
			tasks++
		}
	}
	return map[string]any{"clusterArn": o.ARN, "clusterName": o.ID, "status": o.Status, "registeredContainerInstancesCount": 0,
		"runningTasksCount": tasks, "pendingTasksCount": 0, "activeServicesCount": active, "statistics": []any{}, "tags": []any{},
		"settings": []any{map[string]any{"name": "containerInsights", "value": "disabled"}}, "capacityProviders": []any{}, "defaultCapacityProviderStrategy": []any{}}
}

func ecsCreateCluster(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "clusterName")
	if name == "" {
		name = "default"
	}
	o := s.obj(c.Region, typeECSCluster, name)
	if o == nil { // CreateCluster of an existing cluster returns it
		o = s.put(c, typeECSCluster, name)
		o.ARN = s.arn("ecs", c.Region, "cluster/"+name)
		o.Status = "ACTIVE"
		o.Attrs["region"] = c.Region
	}
	out := map[string]any{"cluster": ecsClusterJSON(s, o)}
	return &Result{JSON: out, Request: map[string]any{"clusterName": name}, Response: out, Resources: made(o)}, nil
}

func ecsDescribeClusters(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	refs := strs(in, "clusters")
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	clusters, failures := []any{}, []any{}
	for _, ref := range refs {
		// A deleted cluster is described INACTIVE for a while, as ECS does.
		if o := s.acct.region(c.Region).objectsOf(typeECSCluster)[lastPart(ref)]; o != nil {
			clusters = append(clusters, ecsClusterJSON(s, o))
			continue
		}
		failures = append(failures, map[string]any{"arn": s.arn("ecs", c.Region, "cluster/"+lastPart(ref)), "reason": "MISSING"})
	}
	return &Result{JSON: map[string]any{"clusters": clusters, "failures": failures}, Request: map[string]any{"clusters": refs}}, nil
}

func ecsDeleteCluster(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	for _, sv := range s.live(c.Region, typeECSService) {
		if sv.Attrs["cluster"] == o.ID {
			return nil, errJSON("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")
		}
	}
	for _, t := range s.live(c.Region, typeECSTask) {
		if t.Attrs["cluster"] == o.ID {
			return nil, errJSON("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
		}
	}
	o.Status = "INACTIVE"
	o.drop("deleted")
	out := map[string]any{"cluster": ecsClusterJSON(s, o)}
	return &Result{JSON: out, Request: map[string]any{"cluster": str(in, "cluster")}, Response: out, Resources: made(o)}, nil
}

func ecsServiceJSON(o *object) map[string]any {
	return map[string]any{"serviceArn": o.ARN, "serviceName": o.Attrs["name"], "clusterArn": o.Attrs["clusterArn"], "status": o.Status,
		"desiredCount": o.Attrs["desiredCount"], "runningCount": 0, "pendingCount": 0, "launchType": o.Attrs["launchType"],
		"taskDefinition": o.Attrs["taskDefinition"], "createdAt": epoch(o.Created), "deployments": []any{}, "events": []any{}}
}

func ecsCreateService(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cl, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	name := str(in, "serviceName")
	if name == "" || str(in, "taskDefinition") == "" {
		return nil, errJSON("InvalidParameterException", "serviceName and taskDefinition are required.")
	}
	arn := s.arn("ecs", c.Region, "service/"+cl.ID+"/"+name)
	if s.obj(c.Region, typeECSService, arn) != nil {
		return nil, errJSON("InvalidParameterException", "Creation of service was not idempotent.")
	}
	o := s.put(c, typeECSService, arn)
	o.ARN, o.Status = arn, "ACTIVE"
	desired := 0
	if v, ok := in["desiredCount"].(float64); ok {
		desired = int(v)
	}
	launch := str(in, "launchType")
	if launch == "" {
		launch = "EC2"
	}
	o.Attrs = map[string]any{"name": name, "cluster": cl.ID, "clusterArn": cl.ARN, "desiredCount": desired, "launchType": launch, "taskDefinition": str(in, "taskDefinition")}
	out := map[string]any{"service": ecsServiceJSON(o)}
	req := map[string]any{"cluster": str(in, "cluster"), "serviceName": name, "taskDefinition": str(in, "taskDefinition"), "desiredCount": desired, "launchType": launch}
	return &Result{JSON: out, Request: req, Response: out, Resources: made(o)}, nil
}

// ecsServiceRef resolves a service name or ARN in a cluster.
func (s *Sim) ecsServiceRef(c *Call, cl *object, ref string) *object {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = s.arn("ecs", c.Region, "service/"+cl.ID+"/"+ref)
	}
	return s.acct.region(c.Region).objectsOf(typeECSService)[arn]
}

func ecsDescribeServices(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cl, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	services, failures := []any{}, []any{}
	for _, ref := range strs(in, "services") {
		if o := s.ecsServiceRef(c, cl, ref); o != nil {
			services = append(services, ecsServiceJSON(o))
			continue
		}
		failures = append(failures, map[string]any{"arn": ref, "reason": "MISSING"})
	}
	return &Result{JSON: map[string]any{"services": services, "failures": failures}, Request: map[string]any{"cluster": str(in, "cluster"), "services": strs(in, "services")}}, nil
}

func ecsDeleteService(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cl, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	o := s.ecsServiceRef(c, cl, str(in, "service"))
	if o == nil || o.Gone {
		return nil, errJSON("ServiceNotFoundException", "Service not found.")
	}
	force, _ := in["force"].(bool)
	if !force && o.Attrs["desiredCount"].(int) > 0 {
		return nil, errJSON("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
	}
	o.Status = "DRAINING"
	o.drop("deleted")
	out := map[string]any{"service": ecsServiceJSON(o)}
	return &Result{JSON: out, Request: map[string]any{"cluster": str(in, "cluster"), "service": str(in, "service"), "force": force}, Response: out, Resources: made(o)}, nil
}

func ecsTaskJSON(o *object) map[string]any {
	return map[string]any{"taskArn": o.ARN, "clusterArn": o.Attrs["clusterArn"], "taskDefinitionArn": o.Attrs["taskDefinition"],
		"lastStatus": o.Status, "desiredStatus": o.Attrs["desiredStatus"], "launchType": o.Attrs["launchType"], "createdAt": epoch(o.Created),
		"containers": []any{}, "cpu": "4096", "memory": "8192"}
}

func ecsRunTask(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cl, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	if str(in, "taskDefinition") == "" {
		return nil, errJSON("InvalidParameterException", "TaskDefinition is required.")
	}
	count := 1
	if v, ok := in["count"].(float64); ok {
		count = int(v)
	}
	if count < 1 || count > 10 {
		return nil, errJSON("InvalidParameterException", "Count must be between 1 and 10.")
	}
	launch := str(in, "launchType")
	if launch == "" {
		launch = "EC2"
	}
	var tasks []any
	res := &Result{}
	for range count {
		arn := s.arn("ecs", c.Region, "task/"+cl.ID+"/"+s.newHex(32))
		o := s.put(c, typeECSTask, arn)
		o.ARN, o.Status = arn, "PROVISIONING"
		o.Attrs = map[string]any{"cluster": cl.ID, "clusterArn": cl.ARN, "taskDefinition": str(in, "taskDefinition"), "launchType": launch, "desiredStatus": "RUNNING"}
		tasks = append(tasks, ecsTaskJSON(o))
		res.Resources = append(res.Resources, made(o)...)
	}
	out := map[string]any{"tasks": tasks, "failures": []any{}}
	res.JSON, res.Response = out, out
	res.Request = map[string]any{"cluster": str(in, "cluster"), "taskDefinition": str(in, "taskDefinition"), "count": count, "launchType": launch}
	return res, nil
}

func (s *Sim) ecsTaskRef(c *Call, cl *object, ref string) *object {
	for _, o := range s.acct.region(c.Region).objectsOf(typeECSTask) {
		if o.ARN == ref || (strings.HasSuffix(o.ARN, "/"+ref) && o.Attrs["cluster"] == cl.ID) {
			return o
		}
	}
	return nil
}

func ecsDescribeTasks(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cl, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	tasks, failures := []any{}, []any{}
	for _, ref := range strs(in, "tasks") {
		if o := s.ecsTaskRef(c, cl, ref); o != nil {
			tasks = append(tasks, ecsTaskJSON(o))
			continue
		}
		failures = append(failures, map[string]any{"arn": ref, "reason": "MISSING"})
	}
	return &Result{JSON: map[string]any{"tasks": tasks, "failures": failures}, Request: map[string]any{"cluster": str(in, "cluster"), "tasks": strs(in, "tasks")}}, nil
}

func ecsStopTask(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cl, apiErr := s.ecsCluster(c, str(in, "cluster"))
	if apiErr != nil {
		return nil, apiErr
	}
	o := s.ecsTaskRef(c, cl, str(in, "task"))
	if o == nil {
		return nil, errJSON("InvalidParameterException", "The referenced task was not found.")
	}
	// Stopping a stopped task answers with the task, as ECS does.
	o.Status, o.Attrs["desiredStatus"] = "STOPPED", "STOPPED"
	o.drop("ended")
	out := map[string]any{"task": ecsTaskJSON(o)}
	return &Result{JSON: out, Request: map[string]any{"cluster": str(in, "cluster"), "task": str(in, "task"), "reason": str(in, "reason")}, Response: out, Resources: made(o)}, nil
}

// ---- EKS (REST JSON) ----

func eksOps() map[string]handler {
	return map[string]handler{
		"CreateCluster":     eksCreateCluster,
		"DescribeCluster":   eksDescribeCluster,
		"DeleteCluster":     eksDeleteCluster,
		"CreateNodegroup":   eksCreateNodegroup,
		"DescribeNodegroup": eksDescribeNodegroup,
		"DeleteNodegroup":   eksDeleteNodegroup,
	}
}

func errEKSNotFound(format string, args ...any) *APIError {
	return errf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func eksClusterJSON(o *object) map[string]any {
	return map[string]any{"name": o.ID, "arn": o.ARN, "createdAt": epoch(o.Created), "version": o.Attrs["version"], "roleArn": o.Attrs["roleArn"],
		"status": o.Status, "endpoint": "https://" + strings.ToUpper(o.Attrs["hex"].(string)) + ".gr7." + o.Attrs["region"].(string) + ".eks.amazonaws.com",
		"resourcesVpcConfig": o.Attrs["vpc"], "platformVersion": "eks.1", "tags": map[string]any{}}
}

func eksCreateCluster(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "name")
	if name == "" || str(in, "roleArn") == "" {
		return nil, errf(400, "InvalidParameterException", "name and roleArn are required.")
	}
	if s.obj(c.Region, typeEKSCluster, name) != nil {
		return nil, errf(409, "ResourceInUseException", "Cluster already exists with name: %s", name)
	}
	o := s.put(c, typeEKSCluster, name)
	o.ARN, o.Status = s.arn("eks", c.Region, "cluster/"+name), "ACTIVE"
	version := str(in, "version")
	if version == "" {
		version = "1.31"
	}
	o.Attrs = map[string]any{"version": version, "roleArn": str(in, "roleArn"), "vpc": in["resourcesVpcConfig"], "hex": s.newHex(32), "region": c.Region}
	out := map[string]any{"cluster": eksClusterJSON(o)}
	req := map[string]any{"name": name, "roleArn": str(in, "roleArn"), "version": version, "resourcesVpcConfig": in["resourcesVpcConfig"]}
	return &Result{JSON: out, Request: req, Response: out, Resources: made(o)}, nil
}

func eksDescribeCluster(s *Sim, c *Call) (*Result, error) {
	name := c.Param("name")
	o := s.obj(c.Region, typeEKSCluster, name)
	if o == nil {
		return nil, errEKSNotFound("No cluster found for name: %s.", name)
	}
	return &Result{JSON: map[string]any{"cluster": eksClusterJSON(o)}, Request: map[string]any{"name": name}}, nil
}

func eksDeleteCluster(s *Sim, c *Call) (*Result, error) {
	name := c.Param("name")
	o := s.obj(c.Region, typeEKSCluster, name)
	if o == nil {
		return nil, errEKSNotFound("No cluster found for name: %s.", name)
	}
	for _, ng := range s.live(c.Region, typeEKSNodes) {
		if ng.Attrs["cluster"] == name {
			return nil, errf(409, "ResourceInUseException", "Cluster has nodegroups attached")
		}
	}
	o.Status = "DELETING"
	o.drop("deleted")
	out := map[string]any{"cluster": eksClusterJSON(o)}
	return &Result{JSON: out, Request: map[string]any{"name": name}, Response: out, Resources: made(o)}, nil
}

func eksNodegroupJSON(o *object) map[string]any {
	return map[string]any{"nodegroupName": o.Attrs["name"], "nodegroupArn": o.ARN, "clusterName": o.Attrs["cluster"], "status": o.Status,
		"createdAt": epoch(o.Created), "modifiedAt": epoch(o.Created), "nodeRole": o.Attrs["nodeRole"], "instanceTypes": o.Attrs["instanceTypes"],
		"scalingConfig": o.Attrs["scalingConfig"], "subnets": o.Attrs["subnets"], "capacityType": "ON_DEMAND", "amiType": "AL2023_x86_64_STANDARD"}
}

func eksCreateNodegroup(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cluster := c.Param("name")
	if s.obj(c.Region, typeEKSCluster, cluster) == nil {
		return nil, errEKSNotFound("No cluster found for name: %s.", cluster)
	}
	name := str(in, "nodegroupName")
	if name == "" || str(in, "nodeRole") == "" || len(strs(in, "subnets")) == 0 {
		return nil, errf(400, "InvalidParameterException", "nodegroupName, nodeRole and subnets are required.")
	}
	id := cluster + "/" + name
	if s.obj(c.Region, typeEKSNodes, id) != nil {
		return nil, errf(409, "ResourceInUseException", "NodeGroup already exists with name %s and cluster name %s", name, cluster)
	}
	o := s.put(c, typeEKSNodes, id)
	o.ARN, o.Status = s.arn("eks", c.Region, "nodegroup/"+cluster+"/"+name+"/"+s.newUUID()), "ACTIVE"
	o.Attrs = map[string]any{"name": name, "cluster": cluster, "nodeRole": str(in, "nodeRole"), "instanceTypes": in["instanceTypes"], "scalingConfig": in["scalingConfig"], "subnets": in["subnets"]}
	out := map[string]any{"nodegroup": eksNodegroupJSON(o)}
	req := map[string]any{"name": cluster, "nodegroupName": name, "nodeRole": str(in, "nodeRole"), "subnets": in["subnets"], "instanceTypes": in["instanceTypes"], "scalingConfig": in["scalingConfig"]}
	return &Result{JSON: out, Request: req, Response: out, Resources: made(o)}, nil
}

func eksDescribeNodegroup(s *Sim, c *Call) (*Result, error) {
	cluster, name := c.Param("name"), c.Param("nodegroupName")
	o := s.obj(c.Region, typeEKSNodes, cluster+"/"+name)
	if o == nil {
		return nil, errEKSNotFound("No node group found for name: %s.", name)
	}
	return &Result{JSON: map[string]any{"nodegroup": eksNodegroupJSON(o)}, Request: map[string]any{"name": cluster, "nodegroupName": name}}, nil
}

func eksDeleteNodegroup(s *Sim, c *Call) (*Result, error) {
	cluster, name := c.Param("name"), c.Param("nodegroupName")
	o := s.obj(c.Region, typeEKSNodes, cluster+"/"+name)
	if o == nil {
		return nil, errEKSNotFound("No node group found for name: %s.", name)
	}
	o.Status = "DELETING"
	o.drop("deleted")
	out := map[string]any{"nodegroup": eksNodegroupJSON(o)}
	return &Result{JSON: out, Request: map[string]any{"name": cluster, "nodegroupName": name}, Response: out, Resources: made(o)}, nil
}

// ---- AWS Batch (REST JSON) ----

func batchOps() map[string]handler {
	return map[string]handler{
		"CreateComputeEnvironment":    batchCreateCE,
		"DescribeComputeEnvironments": batchDescribeCE,
		"UpdateComputeEnvironment":    batchUpdateCE,
		"DeleteComputeEnvironment":    batchDeleteCE,
	}
}

func (s *Sim) batchCE(c *Call, ref string) *object {
	return s.obj(c.Region, typeBatchCE, lastPart(ref))
}

func batchCreateCE(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "computeEnvironmentName")
	if name == "" || str(in, "type") == "" {
		return nil, errf(400, "ClientException", "computeEnvironmentName and type are required.")
	}
	if s.batchCE(c, name) != nil {
		return nil, errf(400, "ClientException", "Object already exists")
	}
	o := s.put(c, typeBatchCE, name)
	o.ARN, o.Status = s.arn("batch", c.Region, "compute-environment/"+name), "VALID"
	state := str(in, "state")
	if state == "" {
		state = "ENABLED"
	}
	o.Attrs = map[string]any{"state": state, "type": str(in, "type"), "computeResources": in["computeResources"]}
	out := map[string]any{"computeEnvironmentName": name, "computeEnvironmentArn": o.ARN}
	req := map[string]any{"computeEnvironmentName": name, "type": str(in, "type"), "state": state, "computeResources": in["computeResources"]}
	return &Result{JSON: out, Request: req, Response: out, Resources: made(o)}, nil
}

func batchDescribeCE(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	var list []*object
	refs := strs(in, "computeEnvironments")
	if len(refs) == 0 {
		list = s.live(c.Region, typeBatchCE)
	}
	for _, ref := range refs {
		if o := s.batchCE(c, ref); o != nil {
			list = append(list, o)
		}
	}
	envs := []any{}
	for _, o := range list {
		envs = append(envs, map[string]any{"computeEnvironmentName": o.ID, "computeEnvironmentArn": o.ARN, "state": o.Attrs["state"],
			"status": o.Status, "type": o.Attrs["type"], "computeResources": o.Attrs["computeResources"], "ecsClusterArn": s.arn("ecs", c.Region, "cluster/AWSBatch-"+o.ID)})
	}
	return &Result{JSON: map[string]any{"computeEnvironments": envs}, Request: map[string]any{"computeEnvironments": refs}}, nil
}

func batchUpdateCE(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	ref := str(in, "computeEnvironment")
	o := s.batchCE(c, ref)
	if o == nil {
		return nil, errf(400, "ClientException", "ComputeEnvironment %s does not exist", ref)
	}
	if st := str(in, "state"); st != "" {
		o.Attrs["state"] = st
	}
	out := map[string]any{"computeEnvironmentName": o.ID, "computeEnvironmentArn": o.ARN}
	return &Result{JSON: out, Request: map[string]any{"computeEnvironment": ref, "state": str(in, "state")}, Response: out, Resources: made(o)}, nil
}

func batchDeleteCE(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	ref := str(in, "computeEnvironment")
	o := s.batchCE(c, ref)
	if o == nil {
		return nil, errf(400, "ClientException", "ComputeEnvironment %s does not exist", ref)
	}
	if o.Attrs["state"] != "DISABLED" {
		return nil, errf(400, "ClientException", "Cannot delete, found existing ComputeEnvironment in ENABLED state; disable it first")
	}
	o.Status = "DELETING"
	o.drop("deleted")
	return &Result{JSON: map[string]any{}, Request: map[string]any{"computeEnvironment": ref}, Resources: made(o)}, nil
}

// ---- Lightsail (JSON 1.1) ----

func lightsailOps() map[string]handler {
	return map[string]handler{
		"CreateInstances": lightsailCreate,
		"GetInstance":     lightsailGet,
		"DeleteInstance":  lightsailDelete,
	}
}

func lightsailOperation(s *Sim, c *Call, name, op string) map[string]any {
	return map[string]any{"id": s.newUUID(), "resourceName": name, "resourceType": "Instance", "createdAt": epoch(c.Time), "isTerminal": false,
		"operationType": op, "status": "Started", "statusChangedAt": epoch(c.Time), "location": map[string]any{"availabilityZone": "all", "regionName": c.Region}}
}

func errLightsailNotFound(name string) *APIError {
	return errJSON("NotFoundException", "The Instance does not exist: %s", name)
}

func lightsailCreate(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	names := strs(in, "instanceNames")
	if len(names) == 0 || str(in, "blueprintId") == "" || str(in, "bundleId") == "" || str(in, "availabilityZone") == "" {
		return nil, errJSON("InvalidInputException", "instanceNames, availabilityZone, blueprintId and bundleId are required")
	}
	for _, n := range names {
		if s.obj(c.Region, typeLightsail, n) != nil {
			return nil, errJSON("InvalidInputException", "Some names are already in use: %s", n)
		}
	}
	res := &Result{}
	var ops []any
	for _, n := range names {
		o := s.put(c, typeLightsail, n)
		o.ARN, o.Status = s.arn("lightsail", c.Region, "Instance/"+s.newUUID()), "running"
		o.Attrs = map[string]any{"blueprintId": str(in, "blueprintId"), "bundleId": str(in, "bundleId"), "az": str(in, "availabilityZone")}
		ops = append(ops, lightsailOperation(s, c, n, "CreateInstance"))
		res.Resources = append(res.Resources, made(o)...)
	}
	out := map[string]any{"operations": ops}
	res.JSON, res.Response = out, out
	res.Request = map[string]any{"instanceNames": names, "availabilityZone": str(in, "availabilityZone"), "blueprintId": str(in, "blueprintId"), "bundleId": str(in, "bundleId")}
	return res, nil
}

func lightsailGet(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "instanceName")
	o := s.obj(c.Region, typeLightsail, name)
	if o == nil {
		return nil, errLightsailNotFound(name)
	}
	inst := map[string]any{"name": o.ID, "arn": o.ARN, "createdAt": epoch(o.Created), "blueprintId": o.Attrs["blueprintId"], "bundleId": o.Attrs["bundleId"],
		"state": map[string]any{"code": 16, "name": o.Status}, "resourceType": "Instance",
		"location": map[string]any{"availabilityZone": o.Attrs["az"], "regionName": c.Region}}
	return &Result{JSON: map[string]any{"instance": inst}, Request: map[string]any{"instanceName": name}}, nil
}

func lightsailDelete(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "instanceName")
	o := s.obj(c.Region, typeLightsail, name)
	if o == nil {
		return nil, errLightsailNotFound(name)
	}
	o.drop("deleted")
	out := map[string]any{"operations": []any{lightsailOperation(s, c, name, "DeleteInstance")}}
	return &Result{JSON: out, Request: map[string]any{"instanceName": name}, Response: out, Resources: made(o)}, nil
}

// ---- SageMaker (JSON 1.1) ----

func sagemakerOps() map[string]handler {
	return map[string]handler{
		"CreateNotebookInstance":   smCreateNotebook,
		"DescribeNotebookInstance": smDescribeNotebook,
		"StopNotebookInstance":     smStopNotebook,
		"DeleteNotebookInstance":   smDeleteNotebook,
		"CreateEndpoint":           smCreateEndpoint,
		"DescribeEndpoint":         smDescribeEndpoint,
		"DeleteEndpoint":           smDeleteEndpoint,
		"CreateTrainingJob":        smCreateTrainingJob,
		"DescribeTrainingJob":      smDescribeTrainingJob,
		"StopTrainingJob":          smStopTrainingJob,
	}
}

// smRecord turns a SageMaker request into CloudTrail's requestParameters,
// whose keys start in lower case.
func smRecord(in map[string]any) map[string]any { return lowerFirst(in) }

func smNotebook(s *Sim, c *Call, in map[string]any) (*object, *APIError) {
	name := str(in, "NotebookInstanceName")
	if o := s.obj(c.Region, typeNotebook, name); o != nil {
		return o, nil
	}
	return nil, errJSON("ValidationException", "RecordNotFound")
}

func smCreateNotebook(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "NotebookInstanceName")
	if name == "" || str(in, "InstanceType") == "" || str(in, "RoleArn") == "" {
		return nil, errJSON("ValidationException", "NotebookInstanceName, InstanceType and RoleArn are required")
	}
	if s.obj(c.Region, typeNotebook, name) != nil {
		return nil, errJSON("ValidationException", "Cannot create a duplicate Notebook Instance (%s)", s.arn("sagemaker", c.Region, "notebook-instance/"+strings.ToLower(name)))
	}
	o := s.put(c, typeNotebook, name)
	o.ARN, o.Status = s.arn("sagemaker", c.Region, "notebook-instance/"+strings.ToLower(name)), "InService"
	o.Attrs = map[string]any{"InstanceType": str(in, "InstanceType"), "RoleArn": str(in, "RoleArn")}
	out := map[string]any{"NotebookInstanceArn": o.ARN}
	return &Result{JSON: out, Request: smRecord(in), Response: lowerFirst(out), Resources: made(o)}, nil
}

func smDescribeNotebook(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := smNotebook(s, c, in)
	if apiErr != nil {
		return nil, apiErr
	}
	out := map[string]any{"NotebookInstanceName": o.ID, "NotebookInstanceArn": o.ARN, "NotebookInstanceStatus": o.Status,
		"InstanceType": o.Attrs["InstanceType"], "RoleArn": o.Attrs["RoleArn"], "CreationTime": epoch(o.Created), "LastModifiedTime": epoch(o.Created),
		"DirectInternetAccess": "Enabled", "VolumeSizeInGB": 5, "RootAccess": "Enabled"}
	return &Result{JSON: out, Request: smRecord(in)}, nil
}

func smStopNotebook(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := smNotebook(s, c, in)
	if apiErr != nil {
		return nil, apiErr
	}
	if o.Status != "InService" {
		return nil, errJSON("ValidationException", "Status (%s) not in ([InService]). Unable to transition to (Stopping) for Notebook Instance (%s).", o.Status, o.ARN)
	}
	// Stopping takes minutes in AWS; here the notebook is stopped at once.
	o.Status = "Stopped"
	return &Result{Request: smRecord(in), Resources: made(o)}, nil
}

func smDeleteNotebook(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := smNotebook(s, c, in)
	if apiErr != nil {
		return nil, apiErr
	}
	if o.Status != "Stopped" && o.Status != "Failed" {
		return nil, errJSON("ValidationException", "Status (%s) not in ([Stopped, Failed]). Unable to transition to (Deleting) for Notebook Instance (%s).", o.Status, o.ARN)
	}
	o.Status = "Deleting"
	o.drop("deleted")
	return &Result{Request: smRecord(in), Resources: made(o)}, nil
}

func errSMEndpoint(s *Sim, c *Call, name string) *APIError {
	return errJSON("ValidationException", "Could not find endpoint \"%s\".", s.arn("sagemaker", c.Region, "endpoint/"+strings.ToLower(name)))
}

func smCreateEndpoint(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "EndpointName")
	if name == "" || str(in, "EndpointConfigName") == "" {
		return nil, errJSON("ValidationException", "EndpointName and EndpointConfigName are required")
	}
	if s.obj(c.Region, typeSMEndpoint, name) != nil {
		return nil, errJSON("ValidationException", "Cannot create already existing endpoint \"%s\".", s.arn("sagemaker", c.Region, "endpoint/"+strings.ToLower(name)))
	}
	o := s.put(c, typeSMEndpoint, name)
	o.ARN, o.Status = s.arn("sagemaker", c.Region, "endpoint/"+strings.ToLower(name)), "InService"
	o.Attrs = map[string]any{"EndpointConfigName": str(in, "EndpointConfigName")}
	out := map[string]any{"EndpointArn": o.ARN}
	return &Result{JSON: out, Request: smRecord(in), Response: lowerFirst(out), Resources: made(o)}, nil
}

func smDescribeEndpoint(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "EndpointName")
	o := s.obj(c.Region, typeSMEndpoint, name)
	if o == nil {
		return nil, errSMEndpoint(s, c, name)
	}
	out := map[string]any{"EndpointName": o.ID, "EndpointArn": o.ARN, "EndpointConfigName": o.Attrs["EndpointConfigName"], "EndpointStatus": o.Status,
		"CreationTime": epoch(o.Created), "LastModifiedTime": epoch(o.Created)}
	return &Result{JSON: out, Request: smRecord(in)}, nil
}

func smDeleteEndpoint(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "EndpointName")
	o := s.obj(c.Region, typeSMEndpoint, name)
	if o == nil {
		return nil, errSMEndpoint(s, c, name)
	}
	o.Status = "Deleting"
	o.drop("deleted")
	return &Result{Request: smRecord(in), Resources: made(o)}, nil
}

func smCreateTrainingJob(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "TrainingJobName")
	if name == "" || str(in, "RoleArn") == "" || in["ResourceConfig"] == nil || in["OutputDataConfig"] == nil || in["StoppingCondition"] == nil {
		return nil, errJSON("ValidationException", "TrainingJobName, RoleArn, ResourceConfig, OutputDataConfig and StoppingCondition are required")
	}
	if s.acct.region(c.Region).objectsOf(typeTrainingJob)[name] != nil {
		// Training job names are unique in the region, finished or not.
		return nil, errJSON("ResourceInUse", "Training job names must be unique within an AWS account and region, and a training job with this name already exists (%s)", name)
	}
	o := s.put(c, typeTrainingJob, name)
	o.ARN, o.Status = s.arn("sagemaker", c.Region, "training-job/"+strings.ToLower(name)), "InProgress"
	o.Attrs = map[string]any{"ResourceConfig": in["ResourceConfig"], "RoleArn": str(in, "RoleArn")}
	out := map[string]any{"TrainingJobArn": o.ARN}
	return &Result{JSON: out, Request: smRecord(in), Response: lowerFirst(out), Resources: made(o)}, nil
}

func smTrainingJob(s *Sim, c *Call, name string) (*object, *APIError) {
	// A stopped job is still described: SageMaker keeps its record.
	if o := s.acct.region(c.Region).objectsOf(typeTrainingJob)[name]; o != nil {
		return o, nil
	}
	return nil, errJSON("ResourceNotFound", "Requested resource not found.")
}

func smDescribeTrainingJob(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := smTrainingJob(s, c, str(in, "TrainingJobName"))
	if apiErr != nil {
		return nil, apiErr
	}
	secondary := map[string]string{"InProgress": "Training", "Stopped": "Stopped"}[o.Status]
	out := map[string]any{"TrainingJobName": o.ID, "TrainingJobArn": o.ARN, "TrainingJobStatus": o.Status, "SecondaryStatus": secondary,
		"RoleArn": o.Attrs["RoleArn"], "ResourceConfig": o.Attrs["ResourceConfig"], "CreationTime": epoch(o.Created),
		"AlgorithmSpecification": map[string]any{"TrainingInputMode": "File"}, "StoppingCondition": map[string]any{"MaxRuntimeInSeconds": 86400}}
	return &Result{JSON: out, Request: smRecord(in)}, nil
}

func smStopTrainingJob(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := smTrainingJob(s, c, str(in, "TrainingJobName"))
	if apiErr != nil {
		return nil, apiErr
	}
	if o.Status != "InProgress" {
		return nil, errJSON("ValidationException", "The request was rejected because the training job is in status %s.", o.Status)
	}
	o.Status = "Stopped"
	o.drop("ended")
	return &Result{Request: smRecord(in), Resources: made(o)}, nil
}

// ---- CodeBuild (JSON 1.1) ----

func codebuildOps() map[string]handler {
	return map[string]handler{
		"CreateProject":    cbCreateProject,
		"BatchGetProjects": cbBatchGetProjects,
		"DeleteProject":    cbDeleteProject,
	}
}

func cbProjectJSON(o *object) map[string]any {
	return map[string]any{"name": o.ID, "arn": o.ARN, "source": o.Attrs["source"], "artifacts": o.Attrs["artifacts"],
		"environment": o.Attrs["environment"], "serviceRole": o.Attrs["serviceRole"], "created": epoch(o.Created), "lastModified": epoch(o.Created),
		"timeoutInMinutes": 60, "queuedTimeoutInMinutes": 480}
}

func cbCreateProject(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "name")
	if name == "" || in["source"] == nil || in["artifacts"] == nil || in["environment"] == nil || str(in, "serviceRole") == "" {
		return nil, errJSON("InvalidInputException", "name, source, artifacts, environment and serviceRole are required")
	}
	if s.obj(c.Region, typeCodeBuild, name) != nil {
		return nil, errJSON("ResourceAlreadyExistsException", "Project already exists: %s", name)
	}
	o := s.put(c, typeCodeBuild, name)
	o.ARN = s.arn("codebuild", c.Region, "project/"+name)
	o.Attrs = map[string]any{"source": in["source"], "artifacts": in["artifacts"], "environment": in["environment"], "serviceRole": str(in, "serviceRole")}
	out := map[string]any{"project": cbProjectJSON(o)}
	return &Result{JSON: out, Request: in, Response: out, Resources: made(o)}, nil
}

func cbBatchGetProjects(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	projects, missing := []any{}, []any{}
	for _, n := range strs(in, "names") {
		if o := s.obj(c.Region, typeCodeBuild, lastPart(n)); o != nil {
			projects = append(projects, cbProjectJSON(o))
			continue
		}
		missing = append(missing, n)
	}
	return &Result{JSON: map[string]any{"projects": projects, "projectsNotFound": missing}, Request: map[string]any{"names": strs(in, "names")}}, nil
}

func cbDeleteProject(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "name")
	res := &Result{JSON: map[string]any{}, Request: map[string]any{"name": name}}
	// CodeBuild answers the deletion of a missing project with success.
	if o := s.obj(c.Region, typeCodeBuild, lastPart(name)); o != nil {
		o.drop("deleted")
		res.Resources = made(o)
	}
	return res, nil
}

// ---- Glue (JSON 1.1) ----

func glueOps() map[string]handler {
	return map[string]handler{
		"CreateDevEndpoint": glueCreateDevEndpoint,
		"GetDevEndpoint":    glueGetDevEndpoint,
		"DeleteDevEndpoint": glueDeleteDevEndpoint,
		"CreateJob":         glueCreateJob,
		"GetJob":            glueGetJob,
		"DeleteJob":         glueDeleteJob,
	}
}

func errGlueNotFound(what, name string) *APIError {
	return errJSON("EntityNotFoundException", "%s %s not found", what, name)
}

func glueCreateDevEndpoint(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "EndpointName")
	if name == "" || str(in, "RoleArn") == "" {
		return nil, errJSON("InvalidInputException", "EndpointName and RoleArn are required")
	}
	if s.obj(c.Region, typeGlueDev, name) != nil {
		return nil, errJSON("AlreadyExistsException", "Dev endpoint %s already exists", name)
	}
	o := s.put(c, typeGlueDev, name)
	o.Status = "PROVISIONING"
	o.Attrs = map[string]any{"RoleArn": str(in, "RoleArn"), "PublicKey": str(in, "PublicKey"), "NumberOfNodes": in["NumberOfNodes"]}
	out := map[string]any{"EndpointName": name, "Status": o.Status, "RoleArn": str(in, "RoleArn"), "CreatedTimestamp": epoch(o.Created)}
	// The record leaves the public key in: it is no secret.
	return &Result{JSON: out, Request: lowerFirst(in), Response: lowerFirst(out), Resources: made(o)}, nil
}

func glueGetDevEndpoint(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "EndpointName")
	o := s.obj(c.Region, typeGlueDev, name)
	if o == nil {
		return nil, errGlueNotFound("Dev endpoint", name)
	}
	// Provisioned by the time anyone asks.
	o.Status = "READY"
	ep := map[string]any{"EndpointName": o.ID, "Status": o.Status, "RoleArn": o.Attrs["RoleArn"], "CreatedTimestamp": epoch(o.Created), "PublicAddress": "203.0.113." + strconv.Itoa(len(o.ID)%250+1)}
	return &Result{JSON: map[string]any{"DevEndpoint": ep}, Request: map[string]any{"endpointName": name}}, nil
}

func glueDeleteDevEndpoint(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "EndpointName")
	o := s.obj(c.Region, typeGlueDev, name)
	if o == nil {
		return nil, errGlueNotFound("Dev endpoint", name)
	}
	o.drop("deleted")
	return &Result{JSON: map[string]any{}, Request: map[string]any{"endpointName": name}, Resources: made(o)}, nil
}

func glueCreateJob(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "Name")
	if name == "" || str(in, "Role") == "" || in["Command"] == nil {
		return nil, errJSON("InvalidInputException", "Name, Role and Command are required")
	}
	if s.obj(c.Region, typeGlueJob, name) != nil {
		return nil, errJSON("IdempotentParameterMismatchException", "Job %s already exists with different parameters", name)
	}
	o := s.put(c, typeGlueJob, name)
	o.Attrs = map[string]any{"Role": str(in, "Role"), "Command": in["Command"]}
	out := map[string]any{"Name": name}
	return &Result{JSON: out, Request: lowerFirst(in), Response: lowerFirst(out), Resources: made(o)}, nil
}

func glueGetJob(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "JobName")
	o := s.obj(c.Region, typeGlueJob, name)
	if o == nil {
		return nil, errGlueNotFound("Job", name)
	}
	job := map[string]any{"Name": o.ID, "Role": o.Attrs["Role"], "Command": o.Attrs["Command"], "CreatedOn": epoch(o.Created), "LastModifiedOn": epoch(o.Created)}
	return &Result{JSON: map[string]any{"Job": job}, Request: map[string]any{"jobName": name}}, nil
}

func glueDeleteJob(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "JobName")
	res := &Result{JSON: map[string]any{"JobName": name}, Request: map[string]any{"jobName": name}, Response: map[string]any{"jobName": name}}
	// Glue answers the deletion of a missing job with success.
	if o := s.obj(c.Region, typeGlueJob, name); o != nil {
		o.drop("deleted")
		res.Resources = made(o)
	}
	return res, nil
}
