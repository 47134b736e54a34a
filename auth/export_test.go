package auth

// ParseGlob exposes parseGlob to the black-box tests.
var ParseGlob = parseGlob

// CachedCredentials returns the entries of a's credential cache.
func CachedCredentials(a *Authority) int { return a.cache.len() }

// TakeSlots takes every argon2id slot of a, so that a check that needs one
// waits; release gives them back.
func TakeSlots(a *Authority) (release func()) {
	for range cap(a.slots) {
		a.slots <- struct{}{}
	}
	return func() {
		for range cap(a.slots) {
			<-a.slots
		}
	}
}
