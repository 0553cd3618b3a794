//go:build !linux

package server

func setsockopts(int, string) error { return nil }
