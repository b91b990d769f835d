package rules

import (
	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// Policy returns the policy the engine was built from: the site's, or for
// an engine from ForUser the site's with that user's preferences applied
// (nil for an engine without a policy).
func (e *Engine) Policy() *cf.Policy { return e.opt.Policy }

// RejectScore is the reject level of the engine's policy (reject_score;
// 0 or less: never reject).
func (e *Engine) RejectScore() float64 {
	if e.opt.Policy == nil {
		return 0
	}
	return e.opt.Policy.Settings().RejectScore
}

// MarkupFor returns the markup a policy asks for: report_safe, the report
// template, add_header/remove_header/clear_headers, rewrite_header,
// report_hostname and report_contact. For a user's engine, pass
// Engine.Policy() so that the user's own user_prefs settings apply.
func MarkupFor(pol *cf.Policy, hostname string) Markup {
	mk := DefaultMarkup(hostname)
	if pol == nil {
		return mk
	}
	s := pol.Settings()
	mk.ReportSafe = s.ReportSafe
	mk.ReportTemplate, mk.ReportWrapWidth = s.ReportTemplate, s.ReportWrapWidth
	mk.HeaderOps = s.HeaderOps
	mk.RewriteSubject, mk.RewriteFrom, mk.RewriteTo = s.RewriteSubject, s.RewriteFrom, s.RewriteTo
	if s.ReportHostname != "" {
		mk.Hostname = s.ReportHostname
	}
	if s.ReportContact != "" {
		mk.ReportContact = s.ReportContact
	}
	return mk
}

// BayesParams are the classifier parameters the engine classifies with.
func (e *Engine) BayesParams() classifier.Params { return e.opt.BayesParams }

// TokenOptions are the tokenizer settings of the engine's scans.
func (e *Engine) TokenOptions() tokenizer.TokenOptions { return e.opt.TokenOptions }
