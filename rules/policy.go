package rules

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
)

// KnownPlugins are the SpamAssassin plugins whose "ifplugin" blocks and
// plugin() tests are true: those whose rules and settings this engine
// implements, and SpamAssassin's network plugins (DNSEval, URIDNSBL,
// SPF, DKIM, ...), whose rules are read but run only with a NetChecker
// that answers their evals, as SpamAssassin reads them and runs none of
// them in its local mode (local_tests_only, or no DNS). Reading them
// keeps the metas that test plugin(DKIM) or use DKIM_SIGNED as
// SpamAssassin has them. Blocks of any other plugin are skipped.
func KnownPlugins() []string {
	return []string{"Check", "Bayes", "AutoLearnThreshold", "HTMLEval", "HeaderEval", "BodyEval",
		"MIMEEval", "MIMEHeader", "RelayEval", "WLBLEval", "FreeMail", "ImageInfo",
		"ReplaceTags", "HTTPSMismatch", "URIEval", "WelcomeListSubject", "VBounce",
		// network plugins
		"AskDNS", "DKIM", "DMARC", "DNSEval", "HashBL", "Pyzor", "Razor2", "SPF", "SpamCop", "URIDNSBL"}
}

// LoadPolicy reads the site policy: the built-in defaults (Defaults), then the
// rules_dir if one is set, then every *.cf of siteDir (and *.cf/
// fragment directories) in name order. An empty siteDir means the
// defaults alone. When any file has an error the policy is refused: err
// is set (the diagnostics say where), and the policy read so far is
// returned only for lint.
func LoadPolicy(ctx context.Context, siteDir string) (*cf.Policy, []cf.Diagnostic, error) {
	return loadPolicy(ctx, siteDir, Defaults())
}

// LoadPolicyFor is LoadPolicy for an engine with network tests: the
// plugins net implements (when it says, see NetPlugins) are known too,
// so that their ifplugin blocks are read (SpamAssassin's network plugins
// already are, see KnownPlugins; this adds any others net names).
func LoadPolicyFor(ctx context.Context, siteDir string, net NetChecker) (*cf.Policy, []cf.Diagnostic, error) {
	var extra []string
	if p, ok := net.(NetPlugins); ok {
		extra = p.Plugins()
	}
	return loadPolicy(ctx, siteDir, Defaults(), extra...)
}

// loadPolicy is LoadPolicy with other built-in rules (nil: none) and
// more known plugins.
func loadPolicy(ctx context.Context, siteDir string, defaults fs.FS, plugins ...string) (*cf.Policy, []cf.Diagnostic, error) {
	opt := cf.Options{KnownPlugins: append(KnownPlugins(), plugins...)}
	pol, diags, err := cf.LoadSite(ctx, siteDir, cf.SiteOptions{Options: opt, Defaults: defaults})
	if err != nil {
		return nil, diags, fmt.Errorf("load policy: %w", err)
	}
	if n := cf.CountErrors(diags); n > 0 {
		return pol, diags, fmt.Errorf("policy in %s has %d error(s)", siteDir, n)
	}
	return pol, diags, nil
}

// OptionsFromPolicy returns the engine options and the markup a policy
// asks for. The Bayes store is left for the caller to set.
func OptionsFromPolicy(pol *cf.Policy, hostname string) (Options, Markup) {
	s := pol.Settings()
	opt := DefaultOptions()
	opt.Policy = pol
	opt.Evals = eval.Default().Lookup
	opt.RequiredScore = s.RequiredScore
	opt.UseBayes = s.UseBayes && s.UseBayesRules
	opt.BayesParams.MinSpam = int64(s.BayesMinSpamNum)
	opt.BayesParams.MinHam = int64(s.BayesMinHamNum)
	opt.BayesParams.UseHapaxes = s.BayesUseHapaxes
	opt.TokenOptions.IgnoreHeaders = s.BayesIgnoreHeaders
	opt.TimeLimit = s.TimeLimit
	opt.Autolearn = AutolearnSettings{
		Enabled:       s.BayesAutoLearn && s.UseBayes && s.UseLearner,
		SpamThreshold: s.BayesAutoLearnThresholdSpam,
		HamThreshold:  s.BayesAutoLearnThresholdNonspam,
		OnError:       s.BayesAutoLearnOnError,
	}
	return opt, MarkupFor(pol, hostname)
}
