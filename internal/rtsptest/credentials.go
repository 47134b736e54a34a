package rtsptest

import (
	"context"

	"github.com/camvault/camvault/rtsp/auth"
)

// Realm is the realm of Users' HA1 values.
const Realm = "NVR"

// User is one entry of Users: its HA1 per algorithm and its password, each "" when unknown.
type User struct{ MD5, SHA256, Password string }

// Users is a user directory for the realm Realm that implements auth.Credentials.
type Users map[string]User

// DefaultUsers has "viewer" with password "secret" (HA1 of RTSP-AUTH-07 and its SHA-256
// form) and "md5only" with only an MD5 HA1 (of password "x").
var DefaultUsers = Users{
	"viewer":  {MD5: "b26bb47cd7f8967457f80201cfbb8c32", SHA256: "5653c8a54dc35caec4bb49c1cdd84db2c1a0251b713aab420767a71910117d8e", Password: "secret"},
	"md5only": {MD5: "148ad8c2ddae776a841df38bf4165ee6"},
}

// DigestHA1 implements auth.Credentials.
func (u Users) DigestHA1(user, alg string) (string, bool) {
	e, ok := u[user]
	v := map[string]string{auth.AlgorithmMD5: e.MD5, auth.AlgorithmSHA256: e.SHA256}[alg]
	return v, ok && v != ""
}

// CheckPassword implements auth.Credentials.
func (u Users) CheckPassword(_ context.Context, user, password string) bool {
	e, ok := u[user]
	return ok && e.Password != "" && e.Password == password
}

var _ auth.Credentials = Users(nil)
