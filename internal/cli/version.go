package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version, Commit and Date are set at build time (the Makefile and
// GoReleaser pass them):
// -ldflags "-X github.com/keyleak/keyleak/internal/cli.Version=v1.2.3 -X …Commit=abc -X …Date=2026-12-03T10:00:00Z".
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// buildInfo is what `keyleak version` says.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// build returns the build's facts: the ldflags ones, else what Go
// recorded in the binary (module version, VCS revision and time).
func build() buildInfo {
	b := buildInfo{Version: version(), Commit: Commit, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	return b
}

// version returns the build's version: the ldflags one, else the module
// version or VCS revision Go recorded in the binary.
func version() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

func newCmdVersion(f *Factory, g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyleak's version, commit, build date and Go version",
		Example: `  keyleak version
  keyleak version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := build()
			return printResult(f.IO.Out, g.output, b, func() string {
				out := "keyleak " + b.Version + "\n"
				if b.Commit != "" {
					out += "commit   " + b.Commit + "\n"
				}
				if b.Date != "" {
					out += "built    " + b.Date + "\n"
				}
				return out + "go       " + b.GoVersion + " " + b.Platform + "\n"
			})
		},
	}
}
