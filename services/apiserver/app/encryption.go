package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/encryption"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
)

// secretsPrefix is where the secrets live in etcd.
const secretsPrefix = "/registry/secrets/"

// keyFile is the encryption key file: the flag, or one in the data dir.
func (c *Config) keyFile() string {
	if c.EncryptionKeyFile != "" {
		return c.EncryptionKeyFile
	}
	return filepath.Join(c.DataDir, "encryption-keys")
}

// setupEncryption makes the store seal secrets. It loads the key file (or
// creates it when no secret is sealed yet), refuses to go on when a stored
// secret does not open with it, and seals again with the first key every
// secret that is plain or sealed with an older one.
func setupEncryption(ctx context.Context, cfg *Config, store *storage.Store, log *zap.Logger) error {
	path := cfg.keyFile()
	stored, err := store.List(ctx, "secrets", secretsPrefix, storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("read stored secrets: %w", err)
	}
	var ids []string
	for _, kv := range stored.Items {
		if id, ok := encryption.KeyID(kv.Value); ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	keys, err := encryption.LoadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if len(ids) > 0 {
			return fmt.Errorf("secrets in etcd are encrypted with key %q, but the encryption key file %s does not exist: restore it (--encryption-key-file); a new key could not read them", ids, path)
		}
		if keys, err = encryption.CreateFile(path, time.Now()); err != nil {
			return err
		}
		log.Info("encryption key file created", zap.String("path", path), zap.String("key", keys[0].ID))
	} else if err != nil {
		return err
	}
	ring, err := encryption.NewKeyring(keys)
	if err != nil {
		return fmt.Errorf("encryption key file %s: %w", path, err)
	}
	// A wrong key shows now, not as garbage or errors to clients later.
	for _, kv := range stored.Items {
		if _, err := ring.Open(string(kv.Key), kv.Value); err != nil {
			return fmt.Errorf("stored secret %s does not decrypt with the encryption key file %s: %w; start with the key file it was written with", kv.Key, path, err)
		}
	}
	store.Transform(secretsPrefix, ring)
	resealed := 0
	for _, kv := range stored.Items {
		if !ring.Stale(kv.Value) {
			continue
		}
		plain, _ := ring.Open(string(kv.Key), kv.Value)
		_, err := store.Update(ctx, "secrets", string(kv.Key), kv.ModRevision, plain)
		switch {
		case errors.Is(err, storage.ErrConflict):
			// Written meanwhile, so sealed with the first key already.
		case err != nil:
			return fmt.Errorf("encrypt stored secret %s again: %w", kv.Key, err)
		default:
			resealed++
		}
	}
	log.Info("secrets encrypted at rest", zap.String("keyFile", path), zap.String("key", ring.Primary()), zap.Int("keys", len(keys)), zap.Int("resealed", resealed))
	return nil
}
