package classifier

import "github.com/gospamd/gospamd/tokenizer"

// A Class is the class a message was learned as. Its byte values are the
// ones SpamAssassin's seen database and --backup use.
type Class byte

// Classes.
const (
	Spam Class = 's'
	Ham  Class = 'h'
)

// String returns "spam" or "ham".
func (c Class) String() string {
	switch c {
	case Spam:
		return "spam"
	case Ham:
		return "ham"
	}
	return "unknown"
}

// Scope names whose tokens and counters are meant: "" is the global scope,
// anything else one user's own database (bayes_scope user).
type Scope string

// Counts are one token's record.
type Counts struct {
	Spam  uint32 // messages learned as spam that had the token
	Ham   uint32 // messages learned as ham that had the token
	Atime int64  // last access time, Unix seconds
}

// Magic holds the counters of one scope, the "non-token data" of
// sa-learn --dump magic.
type Magic struct {
	DBVersion        int64
	NSpam            int64
	NHam             int64
	NTokens          int64
	OldestAtime      int64
	NewestAtime      int64
	LastJournalSync  int64
	LastExpire       int64
	LastExpireDelta  int64
	LastExpireReduce int64
}

// DBVersion is the SpamAssassin database version the store reports and
// writes in backups.
const DBVersion = 3

// An Op is one learn or forget of one message, as the writer applies it.
type Op struct {
	Scope Scope
	// MsgID is the seen-index id (SpamAssassin's generated
	// "<sha1>@sa_generated" id).
	MsgID string
	// AltMsgID is an id older databases may have used for the same
	// message (the bare Message-ID); it is only looked up.
	AltMsgID string
	// Class to learn; ignored for Forget.
	Class Class
	// Forget removes what learning this message added.
	Forget bool
	// NoRelearn leaves a message already learned as the other class alone
	// (autolearn); otherwise it is forgotten and learned again.
	NoRelearn bool
	// Tokens are the message's distinct token keys.
	Tokens []tokenizer.Key
	// Atime is the message's receive time, Unix seconds.
	Atime int64
}

// A Result says what applying an Op did.
type Result int

// Results, also used as log values and metric labels.
const (
	Learned        Result = iota // counts added
	AlreadyLearned               // seen as the same class: nothing done
	Relearned                    // seen as the other class: moved
	Forgotten                    // counts removed
	NotLearned                   // forget of an unseen message, or NoRelearn of the other class
)

var resultNames = [...]string{"learned", "already_learned", "relearned", "forgotten", "not_learned"}

func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "unknown"
}
