package auth

// ParseGlob exposes parseGlob to the black-box tests.
var ParseGlob = parseGlob
