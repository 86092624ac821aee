package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// contentSecurityPolicy allows the server's own script, styles and images and nothing else:
// no inline script or style, no framing, forms and fetches to this origin only, and Trusted
// Types so no string can become markup through the DOM (the script builds nodes).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// tokenCookie carries the token for a browser, set by a ?token= link.
const tokenCookie = "attom_batch_token"

// secure wraps the routes with the checks every request passes: security headers, the
// loopback Host check or the token, and refusing state changes from other sites.
func (s *Server) secure(next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "refused: this request changes state and came from another site (Origin / Sec-Fetch-Site)")
	}))
	guarded := csrf.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.opts.Token == "" {
			// Loopback without a token: only loopback host names, so a web page whose DNS
			// name is rebound to 127.0.0.1 cannot read or drive the API.
			if !loopbackHost(r.Host) {
				s.fail(w, r, http.StatusForbidden, "refused: host "+r.Host+" is not loopback; set ATTOM_BATCH_UI_TOKEN to serve other hosts")
				return
			}
		} else if !s.authorized(r) {
			if s.tokenLink(w, r) {
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="attom-batch"`)
			s.fail(w, r, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <ATTOM_BATCH_UI_TOKEN>, or open the page once with ?token=<ATTOM_BATCH_UI_TOKEN>")
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// authorized checks the bearer token or the cookie, in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if auth := r.Header.Get("Authorization"); auth != "" {
		token, ok := strings.CutPrefix(auth, "Bearer ")
		return ok && s.tokenIs(token)
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		return s.tokenIs(c.Value)
	}
	return false
}

func (s *Server) tokenIs(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(s.opts.Token)) == 1
}

// tokenLink lets a person in with a link: a GET with the right ?token= sets the cookie and
// redirects to the same address without it, so the token leaves the address bar.
func (s *Server) tokenLink(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if r.Method != http.MethodGet || !q.Has("token") || !s.tokenIs(q.Get("token")) {
		return false
	}
	http.SetCookie(w, &http.Cookie{
		Name: tokenCookie, Value: s.opts.Token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	q.Del("token")
	to := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	http.Redirect(w, r, to.String(), http.StatusSeeOther)
	return true
}

// loopbackHost tells a Host header naming this machine's loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoopbackAddr tells whether a listen address only accepts connections from this machine.
// An empty host (":8080") listens everywhere.
func LoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	return loopbackHost(host)
}
