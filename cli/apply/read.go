// Package apply reads manifests (files, directories, standard input),
// checks every object they hold before anything is sent, and creates or
// updates the objects: created, configured or unchanged, as kubectl apply
// reports them.
package apply

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one manifest: its name in messages and its bytes.
type Source struct {
	Name string
	Data []byte
}

// Read reads the manifests that path names: a file, every .yaml, .yml and
// .json file of a directory (not its subdirectories unless recursive), or
// standard input for "-".
func Read(path string, stdin io.Reader, recursive bool) ([]Source, error) {
	if path == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return []Source{{Name: "<stdin>", Data: data}}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("the path %q does not exist", path)
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return []Source{{Name: path, Data: data}}, nil
	}
	var out []Source
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if !slices.Contains([]string{".yaml", ".yml", ".json"}, strings.ToLower(filepath.Ext(p))) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		out = append(out, Source{Name: p, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no manifests (.yaml, .yml, .json) in directory %s", path)
	}
	return out, nil
}
