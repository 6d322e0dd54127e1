package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is stamped at build time:
//
//	go build -trimpath -ldflags "-X main.version=v1.2.3" ./cmd/passerelle
//
// Without it, buildVersion falls back to what the Go toolchain recorded
// (the module version, or the VCS revision of a build from a checkout).
var version string

// buildInfo is what the binary knows about its own build.
type buildInfo struct {
	Version  string // release version, or "devel"
	Revision string // VCS commit, "" when unknown
	Time     string // VCS commit time (RFC 3339), "" when unknown
	Modified bool   // built from a work tree with uncommitted changes
	Go       string // Go toolchain
}

// readBuildInfo combines the ldflags stamp with debug.ReadBuildInfo.
func readBuildInfo() buildInfo {
	bi := buildInfo{Version: version, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				bi.Revision = s.Value
			case "vcs.time":
				bi.Time = s.Value
			case "vcs.modified":
				bi.Modified = s.Value == "true"
			}
		}
		if bi.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			bi.Version = info.Main.Version
		}
	}
	if bi.Version == "" {
		bi.Version = "devel"
	}
	return bi
}

// buildVersion is the one-word version shown in logs, /healthz and
// /status: the release, else "devel" with the short commit.
func buildVersion() string {
	bi := readBuildInfo()
	v := bi.Version
	if v == "devel" && bi.Revision != "" {
		v += "-" + short(bi.Revision)
	}
	if bi.Modified && !strings.HasSuffix(v, "+dirty") {
		v += "+dirty"
	}
	return v
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// runVersion prints the version, the commit and the toolchain.
func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	bi := readBuildInfo()
	fmt.Fprintf(stdout, "passerelle %s\n", buildVersion())
	if bi.Revision != "" {
		fmt.Fprintf(stdout, "commit %s", bi.Revision)
		if bi.Time != "" {
			fmt.Fprintf(stdout, " (%s)", bi.Time)
		}
		if bi.Modified {
			fmt.Fprint(stdout, ", with uncommitted changes")
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "built with %s for %s/%s\n", bi.Go, runtime.GOOS, runtime.GOARCH)
	return nil
}
