package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are the Examples sections of the commands' help, by command path
// without "keyleak ". Every runnable command has one (a test checks).
var examples = map[string]string{
	"": `# Open the interactive runbook on a leaked key
keyleak --key AKIAIOSFODNN7EXAMPLE

# Reopen a case where it stopped
keyleak --case ./keyleak-case-AKIAIOSFODNN7EXAMPLE-20261203T191300Z`,

	"contain": `# See the exact calls first, then contain
keyleak contain --key AKIAIOSFODNN7EXAMPLE --dry-run
keyleak contain --key AKIAIOSFODNN7EXAMPLE

# Unattended, with a named profile
keyleak contain --key AKIAIOSFODNN7EXAMPLE --yes --profile prod-admin

# Across the organization, leaving alone what the key minted before it leaked
keyleak contain --key AKIAIOSFODNN7EXAMPLE --org --leaked-at 2026-12-03T19:13:00Z`,

	"investigate": `# Every region through LookupEvents, last 90 days
keyleak investigate --key AKIAIOSFODNN7EXAMPLE

# Exported log files on a laptop with no AWS credentials
keyleak investigate --key AKIAIOSFODNN7EXAMPLE --logs ./AWSLogs

# The trail's bucket through Athena, two regions only
keyleak investigate --key AKIAIOSFODNN7EXAMPLE --athena cloudtrail_logs --regions us-east-1,ap-northeast-1

# Machine-readable result
keyleak investigate --key AKIAIOSFODNN7EXAMPLE -o json > investigation.json`,

	"report": `# The workbook, Markdown and JSON in the case directory
keyleak report --case ./keyleak-case-AKIAIOSFODNN7EXAMPLE-20261203T191300Z

# In Japanese, times in Tokyo
keyleak report --case ./keyleak-case-AKIAIOSFODNN7EXAMPLE-20261203T191300Z --lang ja --tz Asia/Tokyo

# Timelines for Timesketch and OCSF, from the case alone
keyleak report --case ./keyleak-case-AKIAIOSFODNN7EXAMPLE-20261203T191300Z --format timesketch,ocsf --offline`,

	"eradicate": `# The plan: what the attacker created and is still there
keyleak eradicate --key AKIAIOSFODNN7EXAMPLE

# Remove, asking for each
keyleak eradicate --key AKIAIOSFODNN7EXAMPLE --apply

# Remove two named resources without asking
keyleak eradicate --key AKIAIOSFODNN7EXAMPLE --apply --yes --only i-0abc123def4567890,backup-admin`,

	"respond": `# What the unattended response would do for an AWS Health event, changing nothing
keyleak respond --event health-event.json --plan

# The whole runbook unattended, the investigation within 5 minutes
keyleak respond --event health-event.json --budget 5m

# From EventBridge through a pipe, as JSON
cat event.json | keyleak respond --event - -o json`,

	"verify": `# Watch for further use of the key and what it minted for 20 minutes
keyleak verify --key AKIAIOSFODNN7EXAMPLE --for 20m`,

	"rotate": `# Give the workload a new key in Secrets Manager, then retire the old one
keyleak rotate --key AKIAIOSFODNN7EXAMPLE --to secretsmanager:prod/ci-deploy

# Into a profile of ~/.aws/credentials, without waiting before the delete
keyleak rotate --key AKIAIOSFODNN7EXAMPLE --to credentials:ci-deploy --watch 0`,

	"scan": `# Where in a repository (and its history) a key was committed
keyleak scan ./my-repo

# Only one key
keyleak scan ./my-repo --key AKIAIOSFODNN7EXAMPLE`,

	"audit": `# The account's other keys: old, unused, held by administrators
keyleak audit

# Keep it with a case, for the report's recommendations
keyleak audit --case ./keyleak-case-AKIAIOSFODNN7EXAMPLE-20261203T191300Z`,

	"athena ddl": `# The table over a trail's bucket
keyleak athena ddl --bucket s3://my-trail-bucket --account 123456789012

# Security Lake's CloudTrail table
keyleak athena ddl --security-lake --bucket s3://aws-security-data-lake-us-east-1-abc --account 123456789012`,

	"case verify": `# Check a case's journal and files have not been changed
keyleak case verify ./keyleak-case-AKIAIOSFODNN7EXAMPLE-20261203T191300Z`,

	"demo": `# The runbook against a simulated account (no AWS account needed)
keyleak demo

# Another scenario, narrated as text
keyleak demo --scenario session-persistence --plain

# AWS's Health event starts the runbook with nobody asked
keyleak demo --unattended`,

	"sim serve": `# Serve a simulated account and point the AWS CLI at it
keyleak sim serve --env-file /tmp/sim.env &
. /tmp/sim.env && aws iam list-users

# Real CloudTrail logs behind LookupEvents
keyleak sim serve --replay ./AWSLogs --key AKIAIOSFODNN7EXAMPLE`,

	"eval": `# Score the rules on the public datasets and the scenarios
keyleak eval

# With your own rules
keyleak eval --rules ./my-rules`,

	"version": `keyleak version
keyleak version -o json`,
}

// addExamples sets every command's Examples section from the table.
func addExamples(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.Name()), " ")
		if ex, ok := examples[path]; ok && c.Example == "" {
			c.Example = indentLines(ex)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// indentLines indents each line by two spaces, as cobra's help expects.
func indentLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
