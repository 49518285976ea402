package playbook

import (
	"strings"
	"testing"
)

func TestEscalationPaths(t *testing.T) {
	pol := func(doc string) []PolicyRef { return []PolicyRef{{Name: "p", Source: "inline", Doc: doc}} }
	for name, c := range map[string]struct {
		doc  string
		want []string
	}{
		"passrole and lambda": {`{"Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}`,
			[]string{"passrole-lambda-invoke"}},
		"policy versions by wildcard": {`{"Statement":{"Effect":"Allow","Action":"iam:*PolicyVersion","Resource":"*"}}`,
			[]string{"create-policy-version", "set-default-policy-version"}},
		"passrole alone":   {`{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}`, nil},
		"read only":        {`{"Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`, nil},
		"denied statement": {`{"Statement":[{"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*"}]}`, nil},
		"not action": {`{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`,
			[]string{"update-function-code", "ssm-send-command"}},
	} {
		var got []string
		for _, p := range EscalationPaths(pol(c.doc)) {
			got = append(got, p.ID)
		}
		for _, w := range c.want {
			if !strings.Contains(strings.Join(got, ","), w) {
				t.Errorf("%s: paths %v, want %s among them", name, got, w)
			}
		}
		if c.want == nil && len(got) > 0 {
			t.Errorf("%s: paths %v, want none", name, got)
		}
	}
	a := ClassifyAccess(pol(`{"Statement":[{"Effect":"Allow","Action":["iam:CreateAccessKey"],"Resource":"*"}]}`))
	if len(a.Escalation) != 1 || !strings.Contains(a.Summary, "create-access-key") {
		t.Errorf("identify's blast radius does not name the path: %+v", a)
	}
	if a := ClassifyAccess(pol(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)); len(a.Escalation) != 0 {
		t.Errorf("an administrator is given escalation paths: %v", a.Escalation)
	}
}
