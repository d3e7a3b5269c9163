package hints

// automaton is an Aho–Corasick automaton over the catalog's fragments,
// folding ASCII case: one pass over a log finds every line each fragment
// occurs on.
type automaton struct {
	class   [256]uint8 // byte → input class (0: a byte no fragment has)
	classes int
	next    []int32 // state*classes + class → state
	out     [][]int32
	dict    []int32 // next state on the suffix chain with output, or -1
	frags   int
}

// newAutomaton builds the automaton of frags (lowercase ASCII).
func newAutomaton(frags []string) *automaton {
	a := &automaton{frags: len(frags)}
	a.classes = 1
	for _, f := range frags {
		for i := 0; i < len(f); i++ {
			if a.class[f[i]] == 0 {
				a.class[f[i]] = uint8(a.classes)
				a.classes++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		a.class[b] = a.class[b+'a'-'A']
	}
	// The trie.
	trie := [][]int32{make([]int32, a.classes)}
	a.out = [][]int32{nil}
	for id, f := range frags {
		s := int32(0)
		for i := 0; i < len(f); i++ {
			c := a.class[f[i]]
			if trie[s][c] == 0 {
				trie = append(trie, make([]int32, a.classes))
				a.out = append(a.out, nil)
				trie[s][c] = int32(len(trie) - 1)
			}
			s = trie[s][c]
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Failure links, breadth first, turning the trie into a full table.
	n := len(trie)
	fail := make([]int32, n)
	a.dict = make([]int32, n)
	a.next = make([]int32, n*a.classes)
	queue := make([]int32, 0, n)
	a.dict[0] = -1
	for c := 1; c < a.classes; c++ {
		if t := trie[0][c]; t != 0 {
			a.next[c] = t
			a.dict[t] = -1
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := 1; c < a.classes; c++ {
			t := trie[s][c]
			if t == 0 {
				a.next[int(s)*a.classes+c] = a.next[int(fail[s])*a.classes+c]
				continue
			}
			f := a.next[int(fail[s])*a.classes+c]
			fail[t] = f
			if len(a.out[f]) > 0 {
				a.dict[t] = f
			} else {
				a.dict[t] = a.dict[f]
			}
			a.next[int(s)*a.classes+c] = t
			queue = append(queue, t)
		}
	}
	return a
}

// scan returns, per fragment, the indices of the lines it occurs on
// (ascending, once each); nil for a fragment that does not occur.
func (a *automaton) scan(lines []string) [][]int32 {
	hits := make([][]int32, a.frags)
	for li, line := range lines {
		s := int32(0)
		for i := 0; i < len(line); i++ {
			c := a.class[line[i]]
			if c == 0 {
				s = 0
				continue
			}
			s = a.next[int(s)*a.classes+int(c)]
			for o := s; o > 0; o = a.dict[o] {
				for _, id := range a.out[o] {
					if h := hits[id]; len(h) == 0 || h[len(h)-1] != int32(li) {
						hits[id] = append(h, int32(li))
					}
				}
				if a.dict[o] < 0 {
					break
				}
			}
		}
	}
	return hits
}
