package rest

import (
	"runtime"
)

// Kubernetes version this server reports; kubectl compares it with its own.
const (
	versionMajor = "1"
	versionMinor = "34"
	gitVersion   = "v1.34.0-tugboat"
)

// VersionInfo is the document at /version.
type VersionInfo struct {
	Major        string `json:"major"`
	Minor        string `json:"minor"`
	GitVersion   string `json:"gitVersion"`
	GitCommit    string `json:"gitCommit"`
	GitTreeState string `json:"gitTreeState"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	Compiler     string `json:"compiler"`
	Platform     string `json:"platform"`
}

func newVersionInfo() *VersionInfo {
	return &VersionInfo{
		Major:        versionMajor,
		Minor:        versionMinor,
		GitVersion:   gitVersion,
		GitTreeState: "clean",
		BuildDate:    "1970-01-01T00:00:00Z",
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
}
