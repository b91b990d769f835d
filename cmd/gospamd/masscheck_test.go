package main

import (
	"testing"
	"time"
)

func TestParseSplitFlags(t *testing.T) {
	years := []struct {
		in       string
		from, to int
		err      bool
	}{
		{"2001-2003", 2001, 2004, false},
		{"2002 - 2002", 2002, 2003, false},
		{"2003-2001", 0, 0, true},
		{"2002", 0, 0, true},
		{"a-b", 0, 0, true},
	}
	for _, tt := range years {
		from, to, err := parseYears(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("parseYears(%q) error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && (from != time.Date(tt.from, 1, 1, 0, 0, 0, 0, time.UTC) || to != time.Date(tt.to, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("parseYears(%q) = %v, %v", tt.in, from, to)
		}
	}
	thresholds := []struct {
		in        string
		spam, ham float64
		on, err   bool
	}{
		{"6.0,0.1", 6, 0.1, true, false},
		{"", 0, 0, false, false},
		{"6", 0, 0, false, true},
		{"x,1", 0, 0, false, true},
	}
	for _, tt := range thresholds {
		spam, ham, on, err := parseAutolearnThresholds(tt.in)
		if (err != nil) != tt.err || spam != tt.spam || ham != tt.ham || on != tt.on {
			t.Errorf("parseAutolearnThresholds(%q) = %v, %v, %v, %v", tt.in, spam, ham, on, err)
		}
	}
}
