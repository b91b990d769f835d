package policyedit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// OverlayName is the daemon config overlay the panel owns, beside the
// daemon config file.
const OverlayName = "panel.toml"

// OverlayPath is the overlay of the daemon config file at configFile:
// panel.toml in its directory; "" when there is no config file.
func OverlayPath(configFile string) string {
	if configFile == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(configFile), OverlayName)
}

// An Overlay is the panel's TOML overlay of the daemon config: the daemon
// settings the panel sets, under the daemon config's own section and key
// names. A key the overlay leaves out keeps the daemon config's value;
// a section the daemon config does not have (no [smtp], no [imap]) is
// not created by the overlay, its value waits until it is.
type Overlay struct {
	SMTP OverlaySMTP `toml:"smtp"`
	IMAP OverlayIMAP `toml:"imap"`
}

// OverlaySMTP is the overlay's [smtp] section.
type OverlaySMTP struct {
	// NoJunkSort is [smtp] no_junk_sort: tagged spam stays in the INBOX.
	NoJunkSort *bool `toml:"no_junk_sort,omitempty"`
}

// OverlayIMAP is the overlay's [imap] section.
type OverlayIMAP struct {
	// JunkRetentionDays is [imap] junk_retention_days.
	JunkRetentionDays *int `toml:"junk_retention_days,omitempty"`
}

// IsZero reports whether the overlay sets nothing.
func (o Overlay) IsZero() bool { return o.SMTP.NoJunkSort == nil && o.IMAP.JunkRetentionDays == nil }

// Apply returns base with what the overlay sets.
func (o Overlay) Apply(base Daemon) Daemon {
	if o.SMTP.NoJunkSort != nil {
		base.JunkSort = !*o.SMTP.NoJunkSort
	}
	if o.IMAP.JunkRetentionDays != nil {
		base.JunkRetentionDays = *o.IMAP.JunkRetentionDays
	}
	return base
}

// DecodeOverlay decodes an overlay document, refusing unknown sections
// and keys as the daemon config does. The error is toml's (callers that
// report positions inspect it).
func DecodeOverlay(doc []byte) (Overlay, error) {
	var o Overlay
	err := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields().Decode(&o)
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		var msgs []string
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("line %d: %s: unknown key (the overlay holds only the panel's settings)", line, strings.Join(e.Key(), ".")))
		}
		return o, errors.New(strings.Join(msgs, "; "))
	case errors.As(err, &de):
		line, _ := de.Position()
		return o, fmt.Errorf("line %d: %s: %s", line, strings.Join(de.Key(), "."), strings.TrimPrefix(de.Error(), "toml: "))
	}
	if err == nil && o.IMAP.JunkRetentionDays != nil && *o.IMAP.JunkRetentionDays < 0 {
		err = fmt.Errorf("imap.junk_retention_days %d: want 0 (keep) or more", *o.IMAP.JunkRetentionDays)
	}
	return o, err
}

// ReadOverlay reads the overlay at path; a missing file is an empty
// overlay.
func ReadOverlay(path string) (Overlay, error) {
	doc, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return Overlay{}, nil
	}
	if err != nil {
		return Overlay{}, fmt.Errorf("read overlay: %w", err)
	}
	o, err := DecodeOverlay(doc)
	if err != nil {
		return Overlay{}, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

const overlayHeader = `# Written by the gospamd web panel (Policy page): daemon settings applied
# over the daemon config beside it. Do not edit: the panel rewrites this
# file whole on every change; a key left out keeps the daemon config's
# value.
`

// encode writes the overlay with its header.
func (o Overlay) encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(overlayHeader)
	if o.IsZero() {
		return b.Bytes(), nil
	}
	body, err := toml.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode overlay: %w", err)
	}
	// Empty sections say nothing; leave them out.
	for _, sec := range strings.SplitAfter(string(body), "\n\n") {
		if strings.Contains(strings.TrimSpace(sec), "\n") {
			b.WriteString("\n" + strings.TrimSpace(sec) + "\n")
		}
	}
	return b.Bytes(), nil
}
