package functionhost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied to a FunctionConfig's zero fields.
const (
	DefaultTimeout     = 3 * time.Second // Lambda's default function timeout
	DefaultMemoryMB    = 128
	DefaultConcurrency = 10
	DefaultIdleTimeout = 5 * time.Minute
	DefaultInitTimeout = 10 * time.Second // Lambda's init phase limit
)

// OnLimit says what happens to an invocation over a function's
// concurrency limit.
type OnLimit string

// The OnLimit choices.
const (
	// Throttle refuses the invocation with 429 TooManyRequestsException,
	// like Lambda does.
	Throttle OnLimit = "throttle"
	// Queue makes the invocation wait for a free execution environment.
	Queue OnLimit = "queue"
)

// Config is the function registry: which functions the host serves and how.
//
// In YAML:
//
//	functions:
//	  greet:                  # in-process: runs activities compiled into the host
//	    activity: greet       # default activity for payloads that are not envelopes
//	  samples:                # a bootstrap executable, run through the Runtime API
//	    bootstrap: ./bootstrap
//	    memory: 256
//	    timeout: 30s
//	    concurrency: 20
//	    onLimit: queue
//	    idleTimeout: 2m
//	    environment: {LOG_LEVEL: debug}
type Config struct {
	Functions map[string]FunctionConfig `yaml:"functions"`
}

// FunctionConfig configures one function. Exactly one of Activity,
// Activities or Bootstrap says how it runs.
type FunctionConfig struct {
	// Activity makes an in-process function running the envelope's
	// activity, or this one for a payload that is not an envelope.
	Activity string `yaml:"activity"`
	// Activities makes an in-process function restricted to these
	// activities ("*" or empty with InProcess: all of the host's).
	Activities []string `yaml:"activities"`
	// InProcess makes an in-process function over all the host's
	// activities.
	InProcess bool `yaml:"inProcess"`
	// Bootstrap is the path of a Lambda custom-runtime executable
	// (relative paths are relative to the config file, or with New to the
	// working directory; they are made absolute).
	Bootstrap string `yaml:"bootstrap"`
	// Environment is added to the bootstrap's environment.
	Environment map[string]string `yaml:"environment"`
	// MemoryMB is reported to the function (AWS_LAMBDA_FUNCTION_MEMORY_SIZE)
	// and in logs, and on Linux the host enforces it on a bootstrap's
	// environment (see Sandbox in the package doc). Default 128.
	MemoryMB int `yaml:"memory"`
	// Timeout bounds one invocation (default 3s, like Lambda); a bootstrap
	// past it is killed and the invocation fails with Sandbox.Timedout.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency bounds concurrent executions (default 10); a bootstrap
	// function runs one process per concurrent execution.
	Concurrency int `yaml:"concurrency"`
	// OnLimit is "throttle" (default) or "queue".
	OnLimit OnLimit `yaml:"onLimit"`
	// IdleTimeout stops a bootstrap process idle this long (default 5m).
	IdleTimeout time.Duration `yaml:"idleTimeout"`
	// Async says how asynchronous (Event) invocations are retried.
	Async AsyncConfig `yaml:"async"`
}

var functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// LoadConfig reads and validates a YAML config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("functionhost: reading config: %w", err)
	}
	cfg, err := ParseConfig(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("functionhost: config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses YAML, resolves bootstrap paths against baseDir,
// applies defaults and validates.
func ParseConfig(data []byte, baseDir string) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	for name, fc := range cfg.Functions {
		if fc.Bootstrap != "" && !filepath.IsAbs(fc.Bootstrap) {
			// Made absolute in normalize: exec must never look a bare
			// "bootstrap" up on $PATH.
			fc.Bootstrap = filepath.Join(baseDir, fc.Bootstrap)
			cfg.Functions[name] = fc
		}
	}
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// normalize applies defaults and validates every function.
func (c *Config) normalize() error {
	if len(c.Functions) == 0 {
		return errors.New("no functions configured (want a \"functions:\" map)")
	}
	names := make([]string, 0, len(c.Functions))
	for n := range c.Functions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fc := c.Functions[name]
		if !functionName.MatchString(name) {
			return fmt.Errorf("function %q: name must be 1-64 letters, digits, '-' or '_'", name)
		}
		kinds := 0
		if fc.Bootstrap != "" {
			kinds++
		}
		if fc.Activity != "" || len(fc.Activities) > 0 || fc.InProcess {
			kinds++
		}
		if kinds != 1 {
			return fmt.Errorf("function %q: set either bootstrap (an executable) or activity/activities/inProcess (in-process), exactly one", name)
		}
		if fc.Bootstrap != "" {
			abs, err := filepath.Abs(fc.Bootstrap)
			if err != nil {
				return fmt.Errorf("function %q: bootstrap: %w", name, err)
			}
			fc.Bootstrap = abs
			st, err := os.Stat(fc.Bootstrap)
			if err != nil {
				return fmt.Errorf("function %q: bootstrap: %w", name, err)
			}
			if st.IsDir() || st.Mode()&0o111 == 0 {
				return fmt.Errorf("function %q: bootstrap %s is not an executable file", name, fc.Bootstrap)
			}
		}
		switch {
		case fc.Timeout < 0, fc.MemoryMB < 0, fc.Concurrency < 0, fc.IdleTimeout < 0:
			return fmt.Errorf("function %q: timeout, memory, concurrency and idleTimeout must not be negative", name)
		}
		if fc.Timeout == 0 {
			fc.Timeout = DefaultTimeout
		}
		if fc.MemoryMB == 0 {
			fc.MemoryMB = DefaultMemoryMB
		}
		if fc.Concurrency == 0 {
			fc.Concurrency = DefaultConcurrency
		}
		if fc.IdleTimeout == 0 {
			fc.IdleTimeout = DefaultIdleTimeout
		}
		if err := fc.Async.normalize(); err != nil {
			return fmt.Errorf("function %q: %w", name, err)
		}
		switch fc.OnLimit {
		case "":
			fc.OnLimit = Throttle
		case Throttle, Queue:
		default:
			return fmt.Errorf("function %q: onLimit %q: want %q or %q", name, fc.OnLimit, Throttle, Queue)
		}
		c.Functions[name] = fc
	}
	return nil
}
