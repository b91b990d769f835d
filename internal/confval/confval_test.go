package confval

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		text    string
		want    time.Duration
		wantErr string
	}{
		{"30s", 30 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0s", 0, ""},
		{"30", 0, `not a duration such as "30s" or "5m": "30"`},
		{"30 seconds", 0, `not a duration such as "30s" or "5m": "30 seconds"`},
		{"-1s", 0, `a duration must not be negative: "-1s"`},
	}
	for _, tt := range tests {
		var d Duration
		err := d.UnmarshalText([]byte(tt.text))
		switch {
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("%q: error %v, want %q", tt.text, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.text, err)
		case d.Std() != tt.want:
			t.Errorf("%q: %v, want %v", tt.text, d.Std(), tt.want)
		}
		if tt.wantErr == "" {
			if b, _ := d.MarshalText(); string(b) != tt.want.String() {
				t.Errorf("%q marshals as %q", tt.text, b)
			}
		}
	}
}
