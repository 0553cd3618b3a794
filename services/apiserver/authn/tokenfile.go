package authn

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// TokenFile is Kubernetes' static token file (--token-auth-file): CSV lines
// token,user,uid[,"group1,group2"]; '#' starts a comment line.
type TokenFile struct {
	tokens map[string]*User
}

var _ TokenAuthenticator = (*TokenFile)(nil)

// LoadTokenFile reads and checks a token file.
func LoadTokenFile(path string) (*TokenFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read --token-auth-file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	tf := &TokenFile{tokens: map[string]*User{}}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("--token-auth-file %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) < 3 {
			return nil, fmt.Errorf("--token-auth-file %s line %d: want token,user,uid[,\"groups\"], got %d fields", path, line, len(rec))
		}
		tok, name := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if tok == "" || name == "" {
			return nil, fmt.Errorf("--token-auth-file %s line %d: the token and the user name must not be empty", path, line)
		}
		if _, dup := tf.tokens[tok]; dup {
			return nil, fmt.Errorf("--token-auth-file %s line %d: a token appears twice", path, line)
		}
		u := &User{Name: name, UID: strings.TrimSpace(rec[2])}
		if len(rec) > 3 {
			for _, g := range strings.Split(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		tf.tokens[tok] = withAuthenticated(u)
	}
	return tf, nil
}

// AuthenticateToken looks the token up; an unknown token is not its kind.
func (f *TokenFile) AuthenticateToken(_ context.Context, token string) (*User, bool, error) {
	u, ok := f.tokens[token]
	return u, ok, nil
}
