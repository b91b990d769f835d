package cf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to the parser: it must not panic or hang,
// must return a Policy, and every diagnostic must name a line of the input.
func FuzzParse(f *testing.F) {
	for _, pat := range []string{"testdata/*.cf", "testdata/*.inc"} {
		files, _ := filepath.Glob(pat)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(data))
		}
	}
	f.Add("if (version >= 3.004000) && !plugin(X)\nbody A /a/\nelse\nmeta B A || (C ? 1 : 2)\nendif\n")
	f.Add("replace_tag A [a@]\nreplace_tag AB <A><B>\nreplace_tag B <AB>\nreplace_inter I \\s?\nreplace_rules R\nbody R /<inter I><AB><A>%{T}/\n")
	f.Fuzz(func(t *testing.T, text string) {
		p := NewParser(Options{KnownPlugins: DebianDefaultPlugins})
		// No includes: the fuzzer must not read the file system.
		if err := p.parseData(context.Background(), noIncludes{}, "fuzz.cf", []byte(text)); err != nil {
			t.Fatal(err)
		}
		pol := p.Policy()
		lines := strings.Count(text, "\n") + 1
		for _, d := range p.Diagnostics() {
			if d.Pos.File != "fuzz.cf" || d.Pos.Line < 1 || d.Pos.Line > lines {
				t.Fatalf("diagnostic outside the input: %v", d)
			}
		}
		for _, r := range pol.Rules() {
			if !r.Defined() || pol.Rule(r.Name) != r {
				t.Fatalf("rule list and index disagree on %s", r.Name)
			}
		}
		// User prefs over the result must not change it.
		before := len(pol.Rules())
		if _, _, err := pol.WithUserPrefs(strings.NewReader(text), "fuzz"); err != nil {
			t.Fatal(err)
		}
		if len(pol.Rules()) != before {
			t.Fatal("WithUserPrefs changed the site policy")
		}
	})
}
