package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gospamd/gospamd/panel/policyedit"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
)

// runLint checks a policy as spamassassin --lint does: every parse error
// with file:line, every rule that could not be compiled and why, the eval
// functions this engine does not have, and a summary line; exit 1 on
// errors.
func runLint(ctx context.Context, env *cliEnv, args []string) int {
	cfg, fs, code := commandFlags(env, "gospamd lint", args)
	if code >= 0 {
		return code
	}
	registerDaemonConfigFlag(fs, env)
	configDir := fs.String("config", cfg.Policy.Dir, "site policy `DIR` to check (with its rules_dir, if set)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	// With a [dns] section the network tests are on, as in the daemon
	// and gospamd check: the network plugins' ifplugin blocks are read
	// and their evals are not missing.
	net, err := newNetChecker(cfg.DNS, env.log, nil)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd lint: %v\n", err)
		return exitConfig
	}
	var pol *cf.Policy
	var diags []cf.Diagnostic
	if net != nil {
		pol, diags, err = rules.LoadPolicyFor(ctx, *configDir, net)
	} else {
		pol, diags, err = rules.LoadPolicy(ctx, *configDir)
	}
	parseErrors := cf.CountErrors(diags)
	for _, d := range diags {
		if d.Severity <= cf.SeverityWarning {
			fmt.Fprintln(env.stdout, d.String())
		}
	}
	if pol == nil {
		if parseErrors == 0 {
			fmt.Fprintf(env.stdout, "error: %v\n", err)
			parseErrors = 1
		}
		fmt.Fprintf(env.stdout, "rules: 0; patterns: 0 of 0 compiled (0 by fallback); skipped evals: 0; errors: %d\n", parseErrors)
		return exitFail
	}
	printLayers(env.stdout, pol.Layers())
	printSettings(env.stdout, pol)
	opt, _ := rules.OptionsFromPolicy(pol, "")
	opt.Net = net
	eng, err := rules.New(opt)
	if err != nil {
		fmt.Fprintf(env.stdout, "error: %v\n", err)
		return exitFail
	}
	rs := eng.Rules()
	for _, p := range rs.Problems {
		fmt.Fprintln(env.stdout, p)
	}
	if len(rs.Stats.SkippedEvalNames) > 0 {
		names := make([]string, 0, len(rs.Stats.SkippedEvalNames))
		for n := range rs.Stats.SkippedEvalNames {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int {
			if d := rs.Stats.SkippedEvalNames[b] - rs.Stats.SkippedEvalNames[a]; d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		fmt.Fprintln(env.stdout, "eval functions not implemented (their rules are skipped):")
		for _, n := range names {
			fmt.Fprintf(env.stdout, "  %s (%d rules)\n", n, rs.Stats.SkippedEvalNames[n])
		}
	}
	st := rs.Stats
	errorsTotal := parseErrors + st.Errors
	fmt.Fprintf(env.stdout, "rules: %d; patterns: %d of %d compiled (%d by fallback); skipped evals: %d; errors: %d\n",
		st.Rules, st.Compiled, st.Patterns, st.Fallback, st.SkippedEvals, errorsTotal)
	if errorsTotal > 0 {
		return exitFail
	}
	return exitOK
}

// printLayers says which layers of the policy were read: the built-in
// rules (or that use_builtin_rules left them out), the rules_dir and the
// site directory with its files.
func printLayers(w io.Writer, layers []cf.Layer) {
	for _, l := range layers {
		switch {
		case l.Off != "":
			fmt.Fprintf(w, "layer %s: not loaded (%s)\n", l.Name, l.Off)
		case l.Name == cf.LayerSite:
			fmt.Fprintf(w, "layer %s: %s, %d files\n", l.Name, l.Dir, len(l.Files))
			for _, f := range l.Files {
				fmt.Fprintf(w, "  %s\n", f)
			}
		case l.Dir != "":
			fmt.Fprintf(w, "layer %s: %s, %d files\n", l.Name, l.Dir, len(l.Files))
		default:
			fmt.Fprintf(w, "layer %s: %d files\n", l.Name, len(l.Files))
		}
	}
}

// printSettings lists the settings of the panel's Policy page in force,
// each with the file and line that set it, so that a change made in the
// panel and one made by hand can be compared (and a hand file read after
// the panel's 50_panel.cf seen winning).
func printSettings(w io.Writer, pol *cf.Policy) {
	fmt.Fprintln(w, "settings (value; where set):")
	for _, l := range policyedit.Summary(pol) {
		at := "default"
		if l.At.File != "" {
			at = l.At.String()
		}
		v := l.Value
		if v == "" {
			v = "(none)"
		}
		fmt.Fprintf(w, "  %s = %s; %s\n", l.Key, v, at)
	}
}
