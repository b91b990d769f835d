package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gospamd/gospamd/corpus"
	"github.com/gospamd/gospamd/tokenizer"
)

// A corpusMessage is one file of the corpus with its class and date.
type corpusMessage struct {
	path string
	spam bool
	date time.Time // zero when the Date header is missing or unreadable
	raw  []byte
}

// A split is the corpus cut by time: each class's oldest messages to
// train on, its newest held out to scan.
type split struct {
	trainSpam, trainHam []corpusMessage
	test                []corpusMessage // ham and spam, ordered by date
}

// splitCorpus reads the corpus directory (easy_ham, hard_ham, spam) and
// holds out the newest fraction of each class by date, as gospamd
// masscheck --split-by-date does. Messages without a readable date count
// as the oldest, so they are trained on.
func splitCorpus(dir string, fraction float64) (*split, error) {
	if fraction <= 0 || fraction >= 1 {
		return nil, fmt.Errorf("held-out fraction %v: want between 0 and 1", fraction)
	}
	var ham, spam []corpusMessage
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		files, err := filepath.Glob(filepath.Join(dir, folder, "[0-9]*"))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", folder, err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no messages in %s", filepath.Join(dir, folder))
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read corpus: %w", err)
			}
			m := corpusMessage{path: f, spam: folder == "spam", date: headerDate(raw), raw: raw}
			if m.spam {
				spam = append(spam, m)
			} else {
				ham = append(ham, m)
			}
		}
	}
	s := &split{}
	var testHam, testSpam []corpusMessage
	s.trainHam, testHam = cutByDate(ham, fraction)
	s.trainSpam, testSpam = cutByDate(spam, fraction)
	s.test = append(testHam, testSpam...)
	slices.SortStableFunc(s.test, byDate)
	return s, nil
}

func byDate(a, b corpusMessage) int {
	if c := a.date.Compare(b.date); c != 0 {
		return c
	}
	return cmp.Compare(a.path, b.path)
}

// cutByDate sorts msgs by date and returns the older part and the newest
// fraction.
func cutByDate(msgs []corpusMessage, fraction float64) (older, newest []corpusMessage) {
	slices.SortStableFunc(msgs, byDate)
	n := len(msgs) - int(float64(len(msgs))*fraction+0.5)
	return msgs[:n], msgs[n:]
}

// headerDate is when the message was written, as masscheck's
// --split-by-date orders the corpus (the Date header, else the receive
// time), or the zero time.
func headerDate(raw []byte) time.Time {
	d, _ := corpus.MessageDate(tokenizer.Parse(raw), time.Time{}, time.Time{})
	return d
}

// writeMessages copies msgs into dir, one file each under its own name.
func writeMessages(dir string, msgs []corpusMessage) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	for _, m := range msgs {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(m.path)), m.raw, 0o644); err != nil {
			return fmt.Errorf("write training set: %w", err)
		}
	}
	return nil
}
