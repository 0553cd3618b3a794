// Package logging builds the zap logger every Tugboat binary uses, from the
// --log-level and --log-format flags.
package logging

import (
	"flag"
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options are the logger flags.
type Options struct {
	Level  string
	Format string
}

// AddFlags registers --log-level and --log-format on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	if o.Level == "" {
		o.Level = "info"
	}
	if o.Format == "" {
		o.Format = "json"
	}
	fs.StringVar(&o.Level, "log-level", o.Level, "log level: debug, info, warn or error")
	fs.StringVar(&o.Format, "log-format", o.Format, "log format: json or console")
}

// New builds a logger named after the component.
func (o Options) New(component string) (*zap.Logger, error) {
	level := o.Level
	if level == "" {
		level = "info"
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	var cfg zap.Config
	switch o.Format {
	case "", "json":
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "ts"
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	case "console":
		cfg = zap.NewDevelopmentConfig()
	default:
		return nil, fmt.Errorf("--log-format %q: want json or console", o.Format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil
	cfg.EncoderConfig.EncodeDuration = zapcore.SecondsDurationEncoder
	log, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return log.Named(component), nil
}
