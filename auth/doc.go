// Package auth owns camvault's users and rights: who may publish, watch
// live, replay the archive, use the management API or read metrics, and
// from which networks.
//
// It holds users, their password hashes (argon2id in a PHC string for
// Basic and HTTP, and Digest HA1 values in MD5 and SHA-256 for one realm;
// never the password itself), permissions per [Action] and camera-name
// glob, and a [Limiter] of failed attempts per address.
//
// The package knows nothing of the rest of camvault: it never sees a
// socket, a protocol message or the storage. The RTSP server asks it
// through a small adapter in cmd/camvault, and so will the HTTP side.
//
// Rules:
//   - An authenticated user has its own permissions plus whatever the
//     anonymous entry grants.
//   - With no users and no anonymous entry configured, anonymous access
//     is allowed from loopback only, for every action on every camera.
//     With users but no anonymous entry, nothing is anonymous.
//   - A user or anonymous entry with networks may act only from an
//     address inside one of them.
//
// Caveats: argon2id costs memory per check (19 MiB with the default
// parameters); [Config.MaxConcurrentHashes] bounds how many run at once.
// The Digest HA1 values are password equivalents for their realm: keep
// the configuration file private.
package auth
