package panel

import (
	"context"
	"net/http"

	"github.com/gospamd/gospamd/learn/imaptrain"
)

func (s *Server) trainingRoutes() {
	s.page("/training", "Training", roleReadonly, s.trainingPage)
	s.handle("POST /training/run", roleAdmin, s.trainingRun)
}

// trainingData is the Training page.
type trainingData struct {
	Reports []*imaptrain.Report
	Running bool
}

func (s *Server) trainingPage(w http.ResponseWriter, r *http.Request) {
	s.trainMu.Lock()
	running := s.trainRunning
	s.trainMu.Unlock()
	s.render(w, r, "training.html", trainingData{Reports: s.deps.Training.Reports(), Running: running})
}

// trainingRun starts a pass in the background (a pass over many accounts
// outlasts a request); the page shows it running, then its report.
func (s *Server) trainingRun(w http.ResponseWriter, r *http.Request) {
	s.trainMu.Lock()
	if s.trainRunning {
		s.trainMu.Unlock()
		s.done(w, r, "/training", "A pass started from the panel is still running.")
		return
	}
	s.trainRunning = true
	s.trainMu.Unlock()
	s.audit(r, "imap training pass started")
	go func() {
		defer func() {
			s.trainMu.Lock()
			s.trainRunning = false
			s.trainMu.Unlock()
		}()
		ctx := context.WithoutCancel(s.runCtx)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(s.runCtx, cancel)
		defer stop()
		if _, err := s.deps.Training.Pass(ctx); err != nil {
			s.log.Error("panel: imap training pass", "err", err)
		}
	}()
	s.done(w, r, "/training", "A training pass has started; reload this page to see its report.")
}
