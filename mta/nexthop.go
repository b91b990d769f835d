package mta

import (
	"context"
)

// nextHop forwards to an SMTP or LMTP server.
type nextHop struct {
	proto string
	addr  [2]string
	host  string
}

func newNextHop(cfg *Config) (*nextHop, error) {
	proto, addr, err := parseNextHop(cfg.NextHop)
	if err != nil {
		return nil, err
	}
	return &nextHop{proto: proto, addr: addr, host: cfg.Hostname}, nil
}

func (h *nextHop) forward(ctx context.Context, d *delivery, mail []rcpt, filings []Filing, scanned map[string]*Scanned) error {
	return errNoNextHop
}
