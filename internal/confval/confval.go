// Package confval holds the value types the daemon config file (TOML)
// shares across its sections: [spamd], [smtp], [imap] and [dns] each
// write durations the same way and get the same error for a bad one.
package confval

import (
	"fmt"
	"time"
)

// A Duration is a time.Duration written in the config file as a Go
// duration string ("30s", "5m", "1h30m"). Reading one checks it: a bare
// number or other text is "not a duration", and a negative one is
// refused, since no setting means anything by it (zero is left to each
// setting: usually its default).
type Duration time.Duration

// UnmarshalText reads a Go duration string, refusing negative ones.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration such as \"30s\" or \"5m\": %q", b)
	}
	if v < 0 {
		return fmt.Errorf("a duration must not be negative: %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
