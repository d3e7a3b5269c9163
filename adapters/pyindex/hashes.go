package pyindex

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// ErrHashMismatch is wrapped when a downloaded body does not match the
// hash its index page announced.
var ErrHashMismatch = errors.New("hash mismatch")

var hashers = map[string]func() hash.Hash{"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}

// verifyHashes checks body against every announced hash of a strong
// algorithm; weaker or unknown algorithms (md5) are ignored.
func verifyHashes(hashes map[string]string, body []byte) error {
	for algo, want := range hashes {
		newHash, ok := hashers[strings.ToLower(algo)]
		if !ok {
			continue
		}
		h := newHash()
		h.Write(body)
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
			return fmt.Errorf("%w: %s is %s, the index says %s", ErrHashMismatch, algo, got, want)
		}
	}
	return nil
}
