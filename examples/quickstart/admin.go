package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
)

// adminUser is the user name of the HTTP Basic credentials.
const adminUser = "admin"

// minAdminPassword is the shortest password -admin-password takes.
const minAdminPassword = 12

// adminPasswordFor is the password the dashboard, the reports and the
// demo calls ask for when the quickstart listens on addr: the one given,
// else none on a loopback address (only this machine can connect), else
// one made up now, which the caller prints once.
func adminPasswordFor(addr net.Addr, given string) (password string, madeUp bool) {
	if given != "" {
		return given, false
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return "", false
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b), true
}

// adminOnly requires the admin password, by HTTP Basic auth, when one is
// set (d.adminPassword); without one it lets everything through, which
// only a loopback listener allows.
func (d *demo) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.adminPassword != "" && !d.isAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="calltrack quickstart", charset="UTF-8"`)
			http.Error(w, "401 unauthorized: sign in as "+adminUser+" with the admin password", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reportsAuth guards the report endpoints: the admin password when one is
// set, else this machine only.
func (d *demo) reportsAuth(next http.Handler) http.Handler {
	local, admin := localOnly(next), d.adminOnly(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.adminPassword != "" {
			admin.ServeHTTP(w, r)
			return
		}
		local.ServeHTTP(w, r)
	})
}

// isAdmin compares the request's credentials with the admin's in constant
// time: both sides are hashed first, so neither the comparison nor its
// length says how much of a guess was right.
func (d *demo) isAdmin(r *http.Request) bool {
	user, password, ok := r.BasicAuth()
	if !ok {
		return false
	}
	gotUser, wantUser := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(adminUser))
	gotPass, wantPass := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(d.adminPassword))
	return subtle.ConstantTimeCompare(gotUser[:], wantUser[:])&subtle.ConstantTimeCompare(gotPass[:], wantPass[:]) == 1
}
