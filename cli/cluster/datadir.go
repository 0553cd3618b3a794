package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tugboat-sh/tugboat/component/pki"
)

// checkDataDir refuses a data dir another user could write to or that
// another user owns: it holds the cluster CA's key, the admin's and the
// nodes' credentials and the join token. A missing dir is fine (it is
// created 0700). Each start calls it before it writes anything.
func checkDataDir(dir string) error {
	if dir == "" {
		return errors.New("--data-dir must not be empty")
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data dir %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("data dir %s has mode %04o: it is writable by group or others, and holds the cluster's keys and credentials; chmod 700 %s (or choose another --data-dir)", dir, perm, dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("data dir %s (mode %04o) is owned by uid %d, not by this user (uid %d): it holds the cluster's keys and credentials; use a dir of your own (--data-dir)", dir, fi.Mode().Perm(), st.Uid, os.Geteuid())
	}
	return nil
}

// ensureDataDir creates the data dir 0700 (its parents as needed) and
// then checks it again (checkDataDir): a dir someone else made or
// loosened between the first check and the creation is refused before
// anything is written into it.
func ensureDataDir(dir string) error {
	if err := checkDataDir(dir); err != nil {
		return err
	}
	return createDataDir(dir)
}

// createDataDir is ensureDataDir after its first check: create, then
// check whatever is there now.
func createDataDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("data dir: %w", err)
	}
	return checkDataDir(dir)
}

// openAppend opens (creating 0600) a file in the data dir for appending,
// refusing a symlink in its place: root must not write through one.
func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
}

// The modes a data dir runs in, recorded in its mode file.
const (
	ModeUp   = "up"
	ModeInit = "init"
	ModeJoin = "join"
)

// modeFile records which command runs from the data dir (Mode).
func (c Config) modeFile() string { return filepath.Join(c.DataDir, "mode") }

// writeMode records the data dir's mode (up, init or join).
func (c Config) writeMode(mode string) error {
	if err := pki.WriteFile(c.modeFile(), []byte(mode+"\n"), 0o600); err != nil {
		return fmt.Errorf("mode file: %w", err)
	}
	return nil
}

// Mode says which command last ran from the data dir: up, init or join.
// A data dir from before the mode file existed is up's when it has the
// node's kubeconfig, else init's; no data dir at all: "".
func (c Config) Mode() string {
	b, err := os.ReadFile(c.modeFile())
	if err == nil {
		switch m := strings.TrimSpace(string(b)); m {
		case ModeUp, ModeInit, ModeJoin:
			return m
		}
	}
	if _, err := os.Stat(c.DataDir); err != nil {
		return ""
	}
	if _, err := os.Stat(c.conf(KubeletConf)); err == nil {
		return ModeUp
	}
	return ModeInit
}
