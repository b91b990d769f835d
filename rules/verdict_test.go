package rules

import "testing"

// SME Server's levels: tag at 4, reject at 12.
func TestVerdict(t *testing.T) {
	tests := []struct {
		score, reject float64
		want          Verdict
	}{
		{3.9, 12, VerdictHam}, {4.0, 12, VerdictTag}, {11.99, 12, VerdictTag}, {12, 12, VerdictReject},
		{500, 0, VerdictTag}, // reject level 0: never reject
	}
	for _, tt := range tests {
		r := &Result{Score: tt.score, Required: 4}
		if got := r.Verdict(tt.reject); got != tt.want {
			t.Errorf("score %v reject %v: %v, want %v", tt.score, tt.reject, got, tt.want)
		}
	}
}
