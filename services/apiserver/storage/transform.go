package storage

import (
	"fmt"
	"strings"
)

// Transformer changes values on their way into etcd and back (the
// encryption of secrets). Both directions get the etcd key.
type Transformer interface {
	Seal(key string, plain []byte) ([]byte, error)
	Open(key string, stored []byte) ([]byte, error)
}

type transform struct {
	prefix string
	t      Transformer
}

// Transform applies t to every value under prefix from now on: reads,
// lists and watches see what t opens, writes store what it seals.
func (s *Store) Transform(prefix string, t Transformer) {
	s.transforms = append(s.transforms, transform{prefix, t})
}

func (s *Store) transformer(key string) Transformer {
	for _, tr := range s.transforms {
		if strings.HasPrefix(key, tr.prefix) {
			return tr.t
		}
	}
	return nil
}

func (s *Store) toStorage(key string, value []byte) ([]byte, error) {
	t := s.transformer(key)
	if t == nil {
		return value, nil
	}
	out, err := t.Seal(key, value)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", key, err)
	}
	return out, nil
}

func (s *Store) fromStorage(key string, value []byte) ([]byte, error) {
	t := s.transformer(key)
	if t == nil || value == nil {
		return value, nil
	}
	out, err := t.Open(key, value)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return out, nil
}
