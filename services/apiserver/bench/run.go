package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// results is everything one run measured.
type results struct {
	opts     options
	machine  machine
	started  time.Time
	elapsed  time.Duration
	podBytes int
	creates  []createResult
	reads    []readResult
	watch    watchResult
	security []securityResult
}

// run starts the apiserver, measures, and stops it. Progress goes to log.
func run(ctx context.Context, o options, log io.Writer) (res *results, err error) {
	res = &results{opts: o, machine: readMachine(), started: time.Now()}
	if o.securityOnly {
		if res.security, err = measureSecurity(ctx, o, log); err != nil {
			return nil, err
		}
		res.elapsed = time.Since(res.started)
		return res, nil
	}
	fmt.Fprintln(log, "bench: starting the apiserver")
	c, err := startCluster(ctx, o, plain, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, c.cleanup(cctx, len(o.etcdServers) > 0), c.stop())
		if err != nil {
			res = nil
		}
	}()

	var value []byte
	if res.creates, value, err = measureCreates(ctx, c, o, log); err != nil {
		return nil, err
	}
	res.podBytes = len(value)
	if res.reads, err = measureReads(ctx, c, o, log); err != nil {
		return nil, err
	}
	if res.watch, err = measureWatch(ctx, c, o, value, log); err != nil {
		return nil, err
	}
	if res.security, err = measureSecurity(ctx, o, log); err != nil {
		return nil, err
	}
	res.elapsed = time.Since(res.started)
	return res, nil
}
