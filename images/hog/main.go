// Command hog allocates memory and holds it, for tests of memory limits:
//
//	hog 200Mi    # allocate 200 MiB in 1 MiB steps, touching every page, then sleep
//
// It prints how much it holds after each step, so a container killed by
// the kernel's OOM killer shows in its log how far it got. It exits 0 on
// SIGTERM.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hog SIZE (bytes, or with Ki, Mi, Gi)")
		os.Exit(2)
	}
	size, err := parseSize(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hog:", err)
		os.Exit(2)
	}
	held := allocate(size, func(n int64) { fmt.Printf("hog: holding %d MiB\n", n>>20) })
	fmt.Printf("hog: allocated %d bytes in %d chunks\n", size, len(held))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	runtime.KeepAlive(held)
}

const chunk = 1 << 20

// allocate takes size bytes in 1 MiB chunks, writing to every page so the
// kernel charges them, and reports the total after each chunk.
func allocate(size int64, report func(int64)) [][]byte {
	var held [][]byte
	for total := int64(0); total < size; {
		n := min(int64(chunk), size-total)
		b := make([]byte, n)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		held = append(held, b)
		total += n
		report(total)
	}
	return held
}

// parseSize reads "200Mi", "64Ki", "1Gi" or plain bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a non-negative number with an optional Ki, Mi or Gi", s)
	}
	return n * mult, nil
}
