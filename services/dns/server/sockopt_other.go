//go:build !linux

package server

func setsockopts(int, string, bool) error { return nil }
