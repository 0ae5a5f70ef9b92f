package discover

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is a discovery config file (kind: discover), usually kept in the
// repository beside the code it describes.
type Config struct {
	Kind string `yaml:"kind"`
	// Systems maps directories to inventory systems.
	Systems []SystemPath `yaml:"systems"`
	// FirstParty are the organisation's own registrable domains.
	FirstParty []string `yaml:"first_party"`
	// Baseline is the baseline file for --check, relative to the working
	// directory.
	Baseline string `yaml:"baseline"`
}

// LoadConfig reads a discovery config file. Errors name the file and line;
// unknown fields are errors.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if c.Kind != "discover" {
		return nil, fmt.Errorf("%s: kind is %q, want \"discover\"", path, c.Kind)
	}
	for i, s := range c.Systems {
		if s.Path == "" || s.System == "" {
			return nil, fmt.Errorf("%s: systems[%d]: path and system are both required", path, i)
		}
	}
	return &c, nil
}

// ParseSystemFlag parses a --system DIR=SYSTEM flag value.
func ParseSystemFlag(v string) (SystemPath, error) {
	dir, sys, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(dir) == "" || strings.TrimSpace(sys) == "" {
		return SystemPath{}, fmt.Errorf("--system %q: want DIR=SYSTEM", v)
	}
	return SystemPath{Path: strings.TrimSpace(dir), System: strings.TrimSpace(sys)}, nil
}
