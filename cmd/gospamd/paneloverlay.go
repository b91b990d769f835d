package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/panel/policyedit"
)

// The web panel's daemon settings live in panel.toml beside the daemon
// config (policyedit.Overlay): the panel writes that file, never the
// daemon config. Every command applies it over the daemon config file
// when it loads it; the daemon applies it again on SIGHUP, which the
// panel's Policy page sends after a change, so that junk sorting and junk
// retention change without a restart.

// applyPanelOverlay applies the overlay beside cfg.File over cfg, and
// keeps the values under it in cfg.PanelBase. Keys of a section the
// daemon config does not have wait until it does: the overlay never
// starts a front end. A broken overlay is a config error, as the daemon
// config's own are.
func applyPanelOverlay(cfg *daemonConfig) error {
	path := policyedit.OverlayPath(cfg.File)
	if path == "" {
		return nil
	}
	doc, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &configError{File: path, Msg: err.Error()}
	}
	ov, err := policyedit.DecodeOverlay(doc)
	if err != nil {
		return &configError{File: path, Msg: err.Error()}
	}
	base := panelDaemonSettings(cfg.SMTP, cfg.IMAP)
	cfg.PanelBase = &base
	set := ov.Apply(base)
	if cfg.SMTP != nil {
		cfg.SMTP.NoJunkSort = !set.JunkSort
	}
	if cfg.IMAP != nil {
		cfg.IMAP.JunkRetentionDays = set.JunkRetentionDays
	}
	return nil
}

// panelBase are the daemon settings under the overlay: the daemon
// config file's own.
func (c *daemonConfig) panelBase() policyedit.Daemon {
	if c.PanelBase != nil {
		return *c.PanelBase
	}
	return panelDaemonSettings(c.SMTP, c.IMAP)
}

// panelDaemonSettings are the daemon settings the panel shows, from the
// [smtp] and [imap] sections (junk sorting on without [smtp]).
func panelDaemonSettings(smtp *mta.Config, imap *imaptrain.Config) policyedit.Daemon {
	d := policyedit.Daemon{JunkSort: true}
	if smtp != nil {
		d.JunkSort = !smtp.NoJunkSort
	}
	if imap != nil {
		d.JunkRetentionDays = imap.JunkRetentionDays
	}
	return d
}

// reloadPanelOverlay rereads the overlay (SIGHUP) and applies its junk
// sorting and retention to the running SMTP front end and IMAP trainer.
// A broken overlay is logged and the running values kept.
func (d *daemon) reloadPanelOverlay() {
	if d.panelOverlay == "" {
		return
	}
	ov, err := policyedit.ReadOverlay(d.panelOverlay)
	if err != nil {
		d.log.Error("SIGHUP: panel overlay refused, keeping the running daemon settings", "err", err)
		return
	}
	set := ov.Apply(d.panelBase)
	for _, s := range d.smtpServers {
		s.SetNoJunkSort(!set.JunkSort)
	}
	if d.trainer != nil {
		d.trainer.SetJunkRetentionDays(set.JunkRetentionDays)
	}
	d.log.Info("SIGHUP: panel overlay reloaded", "junk_sort", set.JunkSort, "junk_retention_days", set.JunkRetentionDays)
}
