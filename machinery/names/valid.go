package names

import "strings"

// These scans accept exactly the strings that apimachinery's regular
// expressions accept (valid_test.go checks them against each other); they
// say nothing about why a string fails.

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

// isLabel matches [a-z0-9]([-a-z0-9]*[a-z0-9])? without a length limit.
func isLabel(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// isSubdomain matches dot-separated labels, 253 bytes at most.
func isSubdomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return isLabel(s)
		}
		if !isLabel(s[:i]) {
			return false
		}
		s = s[i+1:]
	}
}

// isNamePart matches ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], without a
// length limit.
func isNamePart(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// isQualifiedName matches an optional DNS-1123 subdomain prefix and a slash,
// then a name part of at most 63 bytes.
func isQualifiedName(s string) bool {
	name := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		if !isSubdomain(s[:i]) {
			return false
		}
		name = s[i+1:]
	}
	return len(name) <= 63 && isNamePart(name)
}

// isPortName: 1 to 15 of [-a-z0-9], at least one letter, no hyphen at either
// end or twice in a row.
func isPortName(s string) bool {
	if s == "" || len(s) > 15 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return letter
}

// isEnvVarName matches [-._a-zA-Z][-._a-zA-Z0-9]*, is not "." and does not
// start with "..".
func isEnvVarName(s string) bool {
	if s == "" || s == "." || strings.HasPrefix(s, "..") || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '.' && c != '_' {
			return false
		}
	}
	return true
}
