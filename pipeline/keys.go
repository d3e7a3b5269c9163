package pipeline

import "sync"

// KeySet remembers which request keys are in flight and by whom, so the
// dequeue stage can recognise a duplicate.
type KeySet struct {
	mu   sync.Mutex
	keys map[string]string // key → correlation id of the leader
}

// NewKeySet makes an empty set.
func NewKeySet() *KeySet { return &KeySet{keys: map[string]string{}} }

// Acquire registers correlationID as the holder of key, or returns the
// current holder when another request holds it.
func (k *KeySet) Acquire(key, correlationID string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if leader, ok := k.keys[key]; ok && leader != correlationID {
		return leader, true
	}
	k.keys[key] = correlationID
	return "", false
}

// Release frees key when correlationID holds it.
func (k *KeySet) Release(key, correlationID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys[key] == correlationID {
		delete(k.keys, key)
	}
}
