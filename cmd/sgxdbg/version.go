package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version, revision and revisionTime are set by the linker (the Makefile
// passes -X main.revision=… and -X main.revisionTime=… from git, since a
// build with -buildvcs=false or from a git worktree records none);
// otherwise they come from the module's build information.
var version, revision, revisionTime = "", "", ""

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print sgxdbg's version, VCS revision and time, and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText(linked{version, revision, revisionTime}, bi))
			return err
		},
	}
}

// versionText describes the build: the module version (the linker's
// version if set), the VCS revision, its time and whether the tree had
// local changes, and the Go toolchain. bi may be nil (a binary without
// build information).
func versionText(l linked, bi *debug.BuildInfo) string {
	var b strings.Builder
	v := l.version
	if v == "" && bi != nil {
		v = bi.Main.Version
	}
	if v == "" {
		v = "unknown"
	}
	fmt.Fprintf(&b, "sgxdbg %s\n", v)
	settings := map[string]string{}
	if bi != nil {
		if bi.Main.Path != "" {
			fmt.Fprintf(&b, "module   %s\n", bi.Main.Path)
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	if l.revision != "" {
		settings["vcs.revision"], settings["vcs.time"], settings["vcs.modified"] = l.revision, l.time, ""
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision %s\n", rev)
	} else {
		b.WriteString("revision unknown (built without VCS information)\n")
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "time     %s\n", t)
	}
	if bi != nil {
		fmt.Fprintf(&b, "go       %s\n", bi.GoVersion)
	} else {
		b.WriteString("go       unknown (no build information in this binary)\n")
	}
	return b.String()
}

// linked is what the linker set.
type linked struct{ version, revision, time string }
