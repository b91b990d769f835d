package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// splitBayes is a trained store whose tokens pull both ways: every
// even token in lookup order is in strongSpam of the 1000 spam and no
// ham, every odd one in weakHam of the 1000 ham and no spam. Chi-square
// combining then sees strong evidence both ways.
type splitBayes struct{ strongSpam, weakHam uint32 }

func (splitBayes) Magic(context.Context, classifier.Scope) (classifier.Magic, error) {
	return classifier.Magic{NSpam: 1000, NHam: 1000}, nil
}

func (b splitBayes) Lookup(_ context.Context, _ classifier.Scope, keys []tokenizer.Key, out []classifier.Counts) error {
	for i := range keys {
		if i%2 == 0 {
			out[i] = classifier.Counts{Spam: b.strongSpam}
		} else {
			out[i] = classifier.Counts{Ham: b.weakHam}
		}
	}
	return nil
}

// check_bayes_odds rules read the second answer of the same tokens
// (the mean log-odds), check_bayes rules SpamAssassin's: on a message
// whose tokens pull both ways, BAYES_50 and an odds band above it hit
// together, each with its own probability in the report.
func TestCheckBayesOdds(t *testing.T) {
	var cf strings.Builder
	for _, b := range [][3]string{{"LOW", "0.00", "0.40"}, {"MID", "0.40", "0.60"}, {"HIGH", "0.60", "1.00"}} {
		fmt.Fprintf(&cf, "body BAYES_%s eval:check_bayes('%s', '%s')\nscore BAYES_%[1]s 0.001\n", b[0], b[1], b[2])
		fmt.Fprintf(&cf, "body ODDS_%s eval:check_bayes_odds('%s', '%s')\nscore ODDS_%[1]s 0.001\n", b[0], b[1], b[2])
	}
	store := splitBayes{strongSpam: 900, weakHam: 40}
	eng, _ := siteEngine(t, cf.String(), func(o *Options) { o.Bayes = store })
	msg := tokenizer.Parse([]byte("From: a@example.com\r\nTo: b@example.org\r\nSubject: offer\r\n\r\n" +
		"alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa\r\n"))
	res, err := eng.Check(context.Background(), msg, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys := tokenizer.TokenKeys(msg, eng.TokenOptions())
	counts := make([]classifier.Counts, len(keys))
	if err := store.Lookup(context.Background(), "", keys, counts); err != nil {
		t.Fatal(err)
	}
	prob, odds, _, ok := classifier.ClassifyOdds(1000, 1000, counts, classifier.DefaultParams())
	if !ok || !res.BayesRan {
		t.Fatalf("Bayes did not run (classify ok %v, BayesRan %v)", ok, res.BayesRan)
	}
	if res.Bayes != prob || res.BayesOdds != odds {
		t.Errorf("Bayes %v, BayesOdds %v; want %v and %v, the classifier's answers over the same tokens", res.Bayes, res.BayesOdds, prob, odds)
	}
	got := res.Rules()
	if !slices.Equal(got, []string{"BAYES_MID", "ODDS_HIGH"}) {
		t.Errorf("hits %v (Bayes %.4f, odds %.4f); want BAYES_MID (undecided) and ODDS_HIGH (the strong spam tokens pull harder)", got, res.Bayes, res.BayesOdds)
	}
	for _, h := range res.Hits {
		want := fmt.Sprintf("score: %3.4f", res.Bayes)
		if strings.HasPrefix(h.Rule, "ODDS_") {
			want = fmt.Sprintf("score: %3.4f", res.BayesOdds)
		}
		if !slices.Equal(h.Details, []string{want}) {
			t.Errorf("%s details %q, want %q", h.Rule, h.Details, want)
		}
	}
}
