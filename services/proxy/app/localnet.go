package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// routeLocalnet lets packets to 127.0.0.1 be DNATed and routed out, so
// that NodePorts answer on localhost.
const routeLocalnet = "/proc/sys/net/ipv4/conf/all/route_localnet"

// localnetStateFile, under --state-dir, holds the value route_localnet had
// before the proxy set it; it exists only while the proxy's change is in
// force, and --cleanup puts the value back and removes it.
const localnetStateFile = "route_localnet.previous"

// enableLocalnet sets the sysctl file to 1. When it was not 1 already, its
// value is first recorded in stateDir; a record left by an earlier run
// (the proxy restarting) is kept, as it holds the host's own value.
func enableLocalnet(sysctl, stateDir string) error {
	cur, err := os.ReadFile(sysctl)
	if err != nil {
		return fmt.Errorf("enable localhost NodePorts: read %s: %w", sysctl, err)
	}
	if strings.TrimSpace(string(cur)) == "1" {
		return nil
	}
	state := filepath.Join(stateDir, localnetStateFile)
	if _, err := os.Stat(state); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(stateDir, 0o755); err != nil {
			return fmt.Errorf("enable localhost NodePorts: state dir: %w", err)
		}
		if err := os.WriteFile(state, cur, 0o644); err != nil {
			return fmt.Errorf("enable localhost NodePorts: record %s: %w", sysctl, err)
		}
	} else if err != nil {
		return fmt.Errorf("enable localhost NodePorts: %w", err)
	}
	if err := os.WriteFile(sysctl, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable localhost NodePorts: write %s: %w", sysctl, err)
	}
	return nil
}

// restoreLocalnet puts back the value enableLocalnet recorded in stateDir
// and removes the record; without a record (the proxy changed nothing) it
// leaves the sysctl alone. It reports whether it restored a value.
func restoreLocalnet(sysctl, stateDir string) (bool, error) {
	state := filepath.Join(stateDir, localnetStateFile)
	prev, err := os.ReadFile(state)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("restore route_localnet: %w", err)
	}
	v := strings.TrimSpace(string(prev))
	if v != "0" && v != "1" {
		return false, fmt.Errorf("restore route_localnet: %s holds %q, not 0 or 1", state, v)
	}
	if err := os.WriteFile(sysctl, []byte(v+"\n"), 0o644); err != nil {
		return false, fmt.Errorf("restore route_localnet: write %s: %w", sysctl, err)
	}
	if err := os.Remove(state); err != nil {
		return true, fmt.Errorf("restore route_localnet: %w", err)
	}
	return true, nil
}
