package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the run happened.
type machine struct {
	cpus   int
	cpu    string
	memory string
	kernel string
	goVer  string
	date   string
	goarch string
}

func readMachine() machine {
	m := machine{
		cpus:   runtime.NumCPU(),
		cpu:    procField("/proc/cpuinfo", "model name"),
		kernel: strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		goVer:  runtime.Version(),
		goarch: runtime.GOOS + "/" + runtime.GOARCH,
		date:   time.Now().UTC().Format("2006-01-02 15:04 MST"),
	}
	if kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64); err == nil {
		m.memory = strconv.FormatFloat(kb/1024/1024, 'f', 1, 64) + " GiB"
	}
	for _, s := range []*string{&m.cpu, &m.memory, &m.kernel} {
		if *s == "" {
			*s = "unknown"
		}
	}
	return m
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// procField returns the value of the first "name : value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
