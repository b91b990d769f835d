package rules

// A Verdict is what a front end does with a scanned message: the
// threshold policy applied to a Result, kept apart from what the rules
// found. Its String is used in logs, metrics and headers.
type Verdict int

// Verdicts, in rising order of severity.
const (
	VerdictHam    Verdict = iota // below the tag level: deliver as is
	VerdictTag                   // at or over the tag level (required_score): mark, file as junk
	VerdictReject                // at or over the reject level: refuse at SMTP time
)

func (v Verdict) String() string {
	switch v {
	case VerdictHam:
		return "ham"
	case VerdictTag:
		return "tag"
	case VerdictReject:
		return "reject"
	}
	return "unknown"
}

// Verdict applies the tag level (the result's required score) and the
// reject level (reject_score; 0 or less means never reject).
func (r *Result) Verdict(rejectScore float64) Verdict {
	switch {
	case rejectScore > 0 && r.Score >= rejectScore:
		return VerdictReject
	case r.IsSpam():
		return VerdictTag
	}
	return VerdictHam
}
