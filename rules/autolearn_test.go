package rules

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// Autolearn as SpamAssassin decides it, with SME Server's thresholds
// (spam 6.0, ham 0.1): a spam needs 3 header and 3 body points, a ham a
// total under 0.1, and userconf rules (GTUBE) never count.
func TestAutolearnDecision(t *testing.T) {
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(`
bayes_auto_learn_threshold_spam    6.0
bayes_auto_learn_threshold_nonspam 0.1
header HDR_BAD   Subject =~ /viagra/i
score  HDR_BAD   4
body   BODY_BAD  /cheap pills/i
score  BODY_BAD  4
body   BODY_BAD2 /buy now/i
score  BODY_BAD2 4
header HDR_GOOD  X-Mailer =~ /mutt/i
score  HDR_GOOD  -1
body   GTUBE     /XJS\*C4JDBQADN1\.NSBN3\*2IDNEN\*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL\*C\.34X/
score  GTUBE     1000
tflags GTUBE     userconf noautolearn
`), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, diags, err := loadPolicy(context.Background(), site, nil) // the site alone
	if err != nil {
		t.Fatal(err, diags)
	}
	opt, _ := OptionsFromPolicy(pol, "")
	eng, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		msg    string
		learn  bool
		class  classifier.Class
		status string
	}{
		{"head and body", "Subject: viagra\n\ncheap pills\n", true, classifier.Spam, AutolearnSpam},
		{"body only", "Subject: hello\n\ncheap pills, buy now\n", false, 0, AutolearnNo},
		{"clean", "Subject: hello\nX-Mailer: Mutt\n\nlunch?\n", true, classifier.Ham, AutolearnHam},
		{"in between", "Subject: viagra\n\nhello\n", false, 0, AutolearnNo},
		// GTUBE scores 1000 but is userconf: no autolearn points, and the
		// message is spam by its total, so it is no ham either.
		{"gtube", "Subject: x\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n", false, 0, AutolearnNo},
	}
	for _, tt := range tests {
		res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tt.msg)), CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		class, learn, status := eng.AutolearnDecision(res)
		if learn != tt.learn || class != tt.class || status != tt.status {
			t.Errorf("%s: learn=%v class=%v status=%s, want %v %v %s (hits %v)", tt.name, learn, class, status, tt.learn, tt.class, tt.status, res.Rules())
		}
	}
}
