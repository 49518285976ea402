package awssim

import (
	"slices"
	"strconv"
)

// organizationsOps returns the handlers of the simulated AWS Organizations
// API (JSON 1.1, X-Amz-Target AWSOrganizationsV20161128.*).
func organizationsOps() map[string]handler {
	return map[string]handler{
		"DescribeOrganization": orgDescribeOrganization,
		"ListAccounts":         orgListAccounts,
	}
}

// orgListAccountsMax is ListAccounts' largest page, as AWS documents it.
const orgListAccountsMax = 20

// errOrgNotInUse is the answer of an account that is in no organization.
func errOrgNotInUse() *APIError {
	return errf(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
}

// orgMember returns the organization when the current account belongs to it.
func (s *Sim) orgMember() (*organization, *APIError) {
	if s.org == nil || s.acct.LeftOrg {
		return nil, errOrgNotInUse()
	}
	return s.org, nil
}

func orgAccountARN(org *organization, id string) string {
	return "arn:aws:organizations::" + org.Master + ":account/" + org.ID + "/" + id
}

// orgEmail is the made-up root e-mail of an account.
func orgEmail(a *account) string {
	name := a.Alias
	if name == "" {
		name = a.ID
	}
	return "aws+" + name + "@example.com"
}

// orgDescribeOrganization describes the organization the caller's account
// belongs to; any member account may call it.
func orgDescribeOrganization(s *Sim, c *Call) (*Result, error) {
	res := &Result{}
	org, err := s.orgMember()
	if err != nil {
		return res, err
	}
	master := s.accountByID(org.Master)
	o := map[string]any{
		"Id":                 org.ID,
		"Arn":                "arn:aws:organizations::" + org.Master + ":organization/" + org.ID,
		"FeatureSet":         "ALL",
		"MasterAccountArn":   "arn:aws:organizations::" + org.Master + ":account/" + org.ID + "/" + org.Master,
		"MasterAccountId":    org.Master,
		"MasterAccountEmail": orgEmail(master),
	}
	res.JSON = map[string]any{"Organization": o}
	return res, nil
}

// orgListAccounts lists the organization's accounts by ID, a page at a
// time. Only the management account may call it, as in AWS.
func orgListAccounts(s *Sim, c *Call) (*Result, error) {
	var in struct {
		MaxResults int
		NextToken  string
	}
	res := &Result{}
	if err := c.jsonBody(&in); err != nil {
		return res, err
	}
	res.Request = requestParameters(c)
	org, apiErr := s.orgMember()
	if apiErr != nil {
		return res, apiErr
	}
	if s.acct.ID != org.Master {
		return res, errf(400, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = orgListAccountsMax
	}
	if limit < 1 || limit > orgListAccountsMax {
		return res, errf(400, "InvalidInputException", "You provided a value that does not match the required pattern: MaxResults must be between 1 and %d.", orgListAccountsMax)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return res, errf(400, "InvalidInputException", "The NextToken value is not valid.")
		}
		start = n
	}
	// An account that left is no longer the organization's.
	all := slices.DeleteFunc(s.sortedAccounts(), func(a *account) bool { return a.LeftOrg })
	start = min(start, len(all))
	end := min(start+limit, len(all))
	accts := []map[string]any{}
	for _, a := range all[start:end] {
		name := a.Alias
		if name == "" {
			name = a.ID
		}
		method := "INVITED"
		if a.ID == org.Master {
			method = "CREATED"
		}
		accts = append(accts, map[string]any{
			"Id": a.ID, "Arn": orgAccountARN(org, a.ID), "Email": orgEmail(a), "Name": name,
			"Status": "ACTIVE", "State": "ACTIVE", "JoinedMethod": method,
			"JoinedTimestamp": float64(a.Joined.Unix()),
		})
	}
	out := map[string]any{"Accounts": accts}
	if end < len(all) {
		out["NextToken"] = strconv.Itoa(end)
	}
	res.JSON = out
	return res, nil
}
