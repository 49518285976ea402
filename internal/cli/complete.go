package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// addCompletions registers the values shell completion offers for the
// flags that take one from a known set, on every command that has them.
// None of them loads AWS config or calls AWS.
func addCompletions(root *cobra.Command) {
	fixed := func(vals ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp)
	}
	funcs := map[string]cobra.CompletionFunc{
		"output":   fixed(string(outputText), string(outputJSON)),
		"profile":  profileCompletion,
		"region":   fixed(trail.KnownRegions...),
		"regions":  listCompletion(append([]string{"all"}, trail.KnownRegions...)),
		"scenario": scenarioCompletion,
		"format":   listCompletion(respond.AllReportFormats),
		"lang":     fixed(report.Languages...),
		"to":       rotateTargetCompletion,
		"case":     dirCompletion,
		"dir":      dirCompletion,
		"logs":     dirCompletion,
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range funcs {
			if c.LocalNonPersistentFlags().Lookup(name) != nil || (c == root && c.PersistentFlags().Lookup(name) != nil) {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func dirCompletion(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// listCompletion completes the last item of a comma-separated list.
func listCompletion(vals []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done, _ := cutLast(toComplete, ",")
		var out []cobra.Completion
		for _, v := range vals {
			if done == "" {
				out = append(out, v)
			} else {
				out = append(out, done+","+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// cutLast splits s at the last sep: what precedes it and what follows.
func cutLast(s, sep string) (string, string) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):]
	}
	return "", s
}

func scenarioCompletion(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	// A scenario may also be a YAML file: let the shell offer files too.
	return awssim.AllScenarioNames(), cobra.ShellCompDirectiveDefault
}

func profileCompletion(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return awsProfiles(), cobra.ShellCompDirectiveNoFileComp
}

func rotateTargetCompletion(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if rest, ok := strings.CutPrefix(toComplete, "credentials:"); ok {
		var out []cobra.Completion
		for _, p := range awsProfiles() {
			if strings.HasPrefix(p, rest) {
				out = append(out, "credentials:"+p)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	return []cobra.Completion{"secretsmanager:", "credentials:", "stdout"}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// awsProfiles are the profile names of the AWS config and credentials
// files, where the AWS CLI looks for them (AWS_CONFIG_FILE,
// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws), sorted and without repeats.
func awsProfiles() []string {
	home, _ := os.UserHomeDir()
	config := os.Getenv("AWS_CONFIG_FILE")
	if config == "" && home != "" {
		config = filepath.Join(home, ".aws", "config")
	}
	creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" && home != "" {
		creds = filepath.Join(home, ".aws", "credentials")
	}
	var names []string
	for _, f := range []struct {
		path   string
		config bool
	}{{config, true}, {creds, false}} {
		if f.path != "" {
			names = append(names, sectionNames(f.path, f.config)...)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// sectionNames reads the profile names of one file: "[profile NAME]" and
// "[default]" in the config file, "[NAME]" in the credentials file. The
// config file's other sections (sso-session, services) are no profiles.
func sectionNames(path string, config bool) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
			continue
		}
		name := strings.TrimSpace(line[1 : len(line)-1])
		if config {
			if p, ok := strings.CutPrefix(name, "profile "); ok {
				name = strings.TrimSpace(p)
			} else if name != "default" {
				continue
			}
		}
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}
