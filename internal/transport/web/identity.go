package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
)

// A web resident has no account: their browser keeps a random token (16
// bytes, base64url) in an HttpOnly, Secure, SameSite=Strict cookie. Their
// resident id is derived from it (a hash into the web id space, see
// bot.WebIDMin), so the store and the logs hold the id, never the token:
// knowing an id (from /mydata or a log) does not open the conversation.
const (
	cookieName = "__Host-passerelle"
	tokenLen   = 22 // base64url of 16 bytes
	// cookieMaxAge: the browser keeps the resident's conversation and
	// documents this long after the last visit (400 days, the most
	// browsers accept).
	cookieMaxAge = 400 * 24 * time.Hour
)

// resident is who a request comes from.
type resident struct {
	token string
	id    int64
}

func newResident() resident {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return residentOf(base64.RawURLEncoding.EncodeToString(b))
}

func residentOf(token string) resident {
	return resident{token: token, id: webID("resident", token)}
}

// webID hashes s into [bot.WebIDMin, 2^63).
func webID(kind, s string) int64 {
	h := sha256.Sum256([]byte("passerelle/web/" + kind + "/" + s))
	return bot.WebIDMin | int64(binary.BigEndian.Uint64(h[:8])&(1<<62-1))
}

func validToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// csrf is the token every form carries: a MAC of the resident's secret
// token, which a page of another site cannot read.
func (r resident) csrf() string {
	m := hmac.New(sha256.New, []byte(r.token))
	m.Write([]byte("csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (r resident) checkCSRF(v string) bool {
	return hmac.Equal([]byte(v), []byte(r.csrf()))
}

// updateID turns the nonce of a form into the update's id, so that a form
// sent twice (a double tap, a reload) is handled once: the core drops
// duplicate update ids. The ids live in the web space, far from
// Telegram's update ids.
func (r resident) updateID(nonce string) int64 {
	return webID("update", r.token+"/"+nonce)
}

func (t *Transport) setCookie(w http.ResponseWriter, r resident) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: r.token, Path: "/", MaxAge: int(cookieMaxAge / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// fromCookie returns the resident of the request's cookie.
func fromCookie(r *http.Request) (resident, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil || !validToken(c.Value) {
		return resident{}, false
	}
	return residentOf(c.Value), true
}

// Resume codes: 12 characters of an alphabet without look-alikes (60
// bits), shown as three groups of four, valid once for resumeTTL. The
// store keeps, under a key derived from the code, the token it opens.
const (
	codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	codeLen      = 12
	resumeTTL    = 30 * time.Minute
)

func newCode() string {
	var b strings.Builder
	max := big.NewInt(int64(len(codeAlphabet)))
	for i := range codeLen {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		n, _ := rand.Int(rand.Reader, max)
		b.WriteByte(codeAlphabet[n.Int64()])
	}
	return b.String()
}

// normalizeCode reads a typed code: case, spaces and dashes do not matter.
// The alphabet has no look-alikes (no 0, O, 1, I).
func normalizeCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\u00a0':
			continue
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != codeLen {
		return "", false
	}
	return b.String(), true
}

// codeKey is where a resume code's record lives: an id in [2^61, 2^62),
// a space no resident (Telegram or web) uses.
func codeKey(normalized string) int64 {
	h := sha256.Sum256([]byte("passerelle/web/resume/" + normalized))
	return 1<<61 | int64(binary.BigEndian.Uint64(h[:8])&(1<<61-1))
}

func randIntN(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func randomNonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
