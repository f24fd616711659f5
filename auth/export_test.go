package auth

// VerifyUncached checks a token in full, as Verify does the first time it
// sees it.
func (t *Tokens) VerifyUncached(token string) (Claims, error) { return t.verify(token) }

// MaxVerified is how many verified tokens Verify remembers.
const MaxVerified = maxVerified
