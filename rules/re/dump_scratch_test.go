package re

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/gospamd/gospamd/rules/cf"
)

func TestDumpScratch(t *testing.T) {
	pol, _, err := cf.LoadSite(context.Background(), "/etc/spamassassin", cf.SiteOptions{
		Options:  cf.Options{KnownPlugins: cf.DebianDefaultPlugins},
		RulesDir: "/usr/share/spamassassin",
	})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/stockpats.jsonl")
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, r := range pol.Rules() {
		if r.HasPattern() {
			enc.Encode(map[string]string{"name": r.Name, "kind": r.Kind.String(), "expr": r.Pattern.Expr, "flags": r.Pattern.Flags})
		}
	}
}
