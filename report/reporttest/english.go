// Package reporttest holds checks that the tests of several packages run
// on written reports.
package reporttest

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keyleak/keyleak/report"
)

// names are words of the English catalogue that are names, not English:
// services, products, tools, commands, flags and AWS's own terms, which a
// Japanese report writes as they are.
var names = map[string]bool{
	"aws": true, "iam": true, "sts": true, "cloudtrail": true, "guardduty": true, "lookupevents": true,
	"keyleak": true, "mfa": true, "lambda": true, "dynamodb": true, "utc": true, "api": true, "asia": true,
	"ssh": true, "scp": true, "llm": true, "github": true, "budgets": true, "config": true, "ip": true, "id": true,
	"linux": true, "usd": true, "ssm": true, "kms": true, "ec": true,
}

// technical are the phrases a Japanese report quotes as they are: product
// and rule names, condition keys, commands with their flags. They are
// removed before the words are compared.
var technical = regexp.MustCompile(strings.Join([]string{
	"`[^`]*`",                        // code: IDs, API names, types, commands
	`https?://\S+`,                   // references
	`\barn:[^\s)）、,]+`,               // ARNs
	`\bA[KS]IA[A-Z0-9]{12,}\b`,       // key IDs
	`\b[a-z]{2}(-[a-z]+)+-\d\b`,      // regions
	`\b[a-z0-9-]+\.amazonaws\.com\b`, // event sources
	`\b[a-z0-9]+:[A-Za-z0-9]+\b`,     // service:Action, condition keys
	`AWS::\w+::\w+`,                  // resource types
	`IAM Identity Center|IAM Roles Anywhere|AWS Config|AWS Budgets|ATT&CK`, // products
	`(AWS )?Price List( API)?|Cost Explorer|Secrets Manager|Savings Plans`, // products
	`access-keys-rotated|git-secrets|aws-vault|git secrets --[a-z-]+`,      // tools and rules
	`keyleak \w+( --\w+(-\w+)*( \S+)?)*`,                                   // keyleak commands
	`--[a-z-]+`,                                                            // flags
	`\b[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\b`,                        // event IDs
	`\b[a-z]{1,6}-[0-9a-f]{8,}\b`,                                          // EC2 and other resource IDs
}, "|"))

var word = regexp.MustCompile(`[A-Za-z]{2,}`)

// EnglishWords returns the words of the English message catalogue, in
// lower case, names left out.
func EnglishWords() map[string]bool {
	out := map[string]bool{}
	verb := regexp.MustCompile(`%(\[\d+\])?[-+ #0]*\d*(\.\d+)?[a-zA-Z]`)
	for _, v := range report.Catalogue("en") {
		v = verb.ReplaceAllString(v, " ")
		v = technical.ReplaceAllString(v, " ")
		for _, w := range word.FindAllString(v, -1) {
			w = strings.ToLower(w)
			if !names[w] {
				out[w] = true
			}
		}
	}
	return out
}

// EnglishLeaks returns the words of the English catalogue that a text in
// another language holds outside names, IDs, code and the data it quotes
// (exclude), each with a little of its context.
func EnglishLeaks(text string, exclude ...string) []string {
	words := EnglishWords()
	for _, x := range exclude {
		if x != "" {
			text = strings.ReplaceAll(text, x, " ")
		}
	}
	text = technical.ReplaceAllString(text, " ")
	var out []string
	for _, loc := range word.FindAllStringIndex(text, -1) {
		w := strings.ToLower(text[loc[0]:loc[1]])
		if !words[w] {
			continue
		}
		from, to := max(0, loc[0]-30), min(len(text), loc[1]+30)
		for from > 0 && !utf8.RuneStart(text[from]) {
			from--
		}
		for to < len(text) && !utf8.RuneStart(text[to]) {
			to++
		}
		s := w + ": …" + strings.ReplaceAll(text[from:to], "\n", " ") + "…"
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Quoted is what a report quotes from the case as it is, whatever its
// language: the events' fields, the journal's targets and errors, AWS's
// and the threat research's own words, the resources' statuses in AWS,
// the audit's subjects. It is what EnglishLeaks must leave aside.
func Quoted(d *report.Document) []string {
	var out []string
	for _, r := range d.Resources {
		out = append(out, r.ID, r.Type)
	}
	for _, ev := range d.Events {
		out = append(out, ev.UserAgent, ev.UserName, ev.ErrorCode, ev.ErrorMessage, ev.Reason, ev.RuleID, ev.Technique)
		for _, r := range ev.Resources {
			out = append(out, r.String())
		}
	}
	for _, a := range d.Actions {
		out = append(out, a.Target, a.Error, a.Detail, a.Actor)
	}
	for _, f := range d.Findings {
		out = append(out, f.Title, f.Type)
	}
	for _, r := range d.Resources {
		out = append(out, r.Status, r.Note, r.GoneWith)
	}
	for _, c := range d.Coverage {
		out = append(out, c.Error, c.Source)
	}
	for _, c := range d.Credentials {
		out = append(out, c.Note, c.Session, c.User)
	}
	for _, a := range d.Actors {
		out = append(out, a.Actor, a.Explanation, a.Reported, a.Indicator)
		out = append(out, a.Aliases...)
		out = append(out, a.References...)
	}
	for _, h := range d.Hygiene {
		out = append(out, h.Title)
		out = append(out, h.Subjects...)
	}
	for _, sr := range d.SecretsRead {
		out = append(out, sr.Name)
	}
	if b := d.Bill; b != nil {
		out = append(out, b.PricingError)
		out = append(out, b.Unpriced...)
		if b.Spend != nil {
			out = append(out, b.Spend.Error)
			for _, l := range b.Spend.Lines {
				out = append(out, l.Service)
			}
		}
	}
	if d.Summary != nil {
		for _, c := range d.Summary.AttackerUserAgents {
			out = append(out, c.Value)
		}
	}
	out = append(out, d.Case.LeakChannel, d.Case.ToolVersion, d.Case.DetectedBy, d.Case.LeakedAtReason, d.Case.OwnerUser, d.Case.ResponderARN)
	// Longest first, so that a value is removed before a part of it.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
