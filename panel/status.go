package panel

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/scan"
)

// statusData is the Status page.
type statusData struct {
	Uptime    time.Duration
	Started   time.Time
	HourTotal MinuteCount
	DayTotal  MinuteCount
	PerMinute float64 // scans per minute over the last hour
	Total     MinuteCount
	HourGraph template.HTML
	DayGraph  template.HTML
	Latency   Latency
	HasScans  bool
	Magic     classifier.Magic
	MagicErr  string
	DNS       []ZoneHealth
	DNSOn     bool
	Recent    []scan.Record
}

func sumMinutes(ms []MinuteCount) MinuteCount {
	var t MinuteCount
	for _, m := range ms {
		t.Ham += m.Ham
		t.Tag += m.Tag
		t.Reject += m.Reject
		t.Unscanned += m.Unscanned
		t.Errors += m.Errors
	}
	return t
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	now := s.deps.Now()
	d := statusData{Started: s.deps.Started, Uptime: now.Sub(s.deps.Started).Round(time.Second)}
	if l := s.deps.Scans; l != nil {
		d.HasScans = true
		hour := l.Minutes(now, 60)
		day := l.Minutes(now, minutesKept)
		d.HourTotal, d.DayTotal, d.Total = sumMinutes(hour), sumMinutes(day), l.Total()
		d.PerMinute = float64(d.HourTotal.Scans()) / 60
		d.HourGraph = verdictGraph("scans per minute, last hour", bars(hour, 1), 10, "15:04")
		d.DayGraph = verdictGraph("scans per 15 minutes, last day", bars(day, 15), 16, "15:04")
		d.Latency = l.Latency()
		d.Recent = l.Recent()
	}
	d.Magic, d.MagicErr = s.magic(r.Context(), "")
	if s.deps.DNS != nil {
		d.DNSOn = true
		d.DNS = s.deps.DNS()
	}
	s.render(w, r, "status.html", d)
}

// magic reads a scope's counters; the error is for showing.
func (s *Server) magic(ctx context.Context, sc classifier.Scope) (classifier.Magic, string) {
	if s.deps.Store == nil {
		return classifier.Magic{}, "no Bayes store"
	}
	m, err := s.deps.Store.Magic(ctx, sc)
	if err != nil {
		s.log.Error("panel: read Bayes counters", "err", err)
		return m, "cannot read the Bayes counters: " + err.Error()
	}
	return m, ""
}
