package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/mta"
)

// TestExampleSMTPSection: etc/gospamd.toml shows every [smtp] key,
// commented out (so the example runs no SMTP), and with the section
// uncommented it loads, every key at its default.
func TestExampleSMTPSection(t *testing.T) {
	path := filepath.Join("..", "..", "etc", "gospamd.toml")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[mta.Config](), reflect.TypeFor[mta.UserOptions]()} {
		for i := range typ.NumField() {
			key := typ.Field(i).Tag.Get("toml")
			if key == "users" {
				key = `\[smtp\.users\.bob\]`
			} else {
				key = regexp.QuoteMeta(key) + " = "
			}
			if !regexp.MustCompile(`(?m)^# ` + key).Match(doc) {
				t.Errorf("etc/gospamd.toml does not show [smtp] %s", key)
			}
		}
	}

	// Uncomment the section header and its keys.
	setting := regexp.MustCompile(`^# (\[smtp(\.users\.bob)?\]|[a-z_]+ = .*)$`)
	lines := strings.Split(string(doc), "\n")
	in := false
	for i, l := range lines {
		switch {
		case l == "# [smtp]":
			in = true
		case !strings.HasPrefix(l, "#"):
			in = false
		}
		if in && setting.MatchString(l) {
			lines[i] = strings.TrimPrefix(l, "# ")
		}
	}
	file := filepath.Join(t.TempDir(), "gospamd.toml")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadDaemonConfig(file)
	if err != nil {
		t.Fatalf("the example with [smtp] uncommented: %v", err)
	}
	if got.SMTP == nil {
		t.Fatal("no [smtp] section after uncommenting it")
	}
	want := mta.Config{Domains: []string{"example.com"}, Routes: "/etc/gospamd/routes",
		SpamTraps: []string{}, BadMailFrom: []string{}, BadRcptTo: []string{}, BadMailFromTo: []string{},
		HeaderChecksExempt: []string{}, DNSBLReject: []string{}, DNSBLExemptNetworks: []string{}, Users: map[string]mta.UserOptions{"bob": {}}}
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got.SMTP, want) {
		t.Errorf("uncommented [smtp]:\n got %+v\nwant %+v", *got.SMTP, want)
	}
}
