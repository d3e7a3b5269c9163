package filequeue

// Writing the queue after a claim used to encode every item left in it
// again: at 50,000 items that was most of a claim's CPU. The items a write
// keeps are usually the very slices of the last version this instance wrote
// (a claim removes some, an enqueue appends), so their indented bytes can be
// copied from that version instead.

// encodeQueueStarts is encodeQueue, also returning where each item's
// indented form starts in the result.
func encodeQueueStarts(items [][]byte) ([]byte, []int) {
	if len(items) == 0 {
		return []byte("[]"), nil
	}
	size := 4
	for _, it := range items {
		size += len(it)*3/2 + 8
	}
	b := make([]byte, 0, size)
	starts := make([]int, len(items))
	b = append(b, "[\n"...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		starts[i] = len(b)
		b = append(b, "  "...)
		b = appendIndent(b, it, 1)
	}
	return append(b, "\n]"...), starts
}

// spliceQueue returns encodeQueue(items) and the starts of its items. When
// items begin with a subsequence of c.items (the same slices, in order) and
// c knows where they lie in c.data, their bytes are copied from c.data and
// only the rest is encoded; otherwise everything is.
func spliceQueue(c *queueCache, items [][]byte) ([]byte, []int) {
	n := len(c.items)
	if len(items) == 0 || n == 0 || len(c.starts) != n {
		return encodeQueueStarts(items)
	}
	size := len(c.data) + 4
	b := make([]byte, 0, size)
	starts := make([]int, 0, len(items))
	b = append(b, "[\n"...)
	i, j := 0, 0
	for ; j < len(items); j++ {
		it := items[j]
		for i < n && !sameSlice(c.items[i], it) {
			i++
		}
		if i == n {
			break
		}
		end := len(c.data) - 2 // before "\n]"
		if i+1 < n {
			end = c.starts[i+1] - 2 // before ",\n"
		}
		if j > 0 {
			b = append(b, ",\n"...)
		}
		starts = append(starts, len(b))
		b = append(b, c.data[c.starts[i]:end]...)
		i++
	}
	if j == 0 {
		return encodeQueueStarts(items)
	}
	for _, it := range items[j:] {
		b = append(b, ",\n"...)
		starts = append(starts, len(b))
		b = append(b, "  "...)
		b = appendIndent(b, it, 1)
	}
	return append(b, "\n]"...), starts
}

// sameSlice reports whether a and b are the same (non-empty) slice of the
// same array: the very item, not merely equal bytes.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// sliceQueue is the fast path of a refill, which removes a run of items from
// the head of the queue: when items are exactly the cached items after the
// first k, the new file is "[\n  " and the cached file's bytes from item k
// on, whatever their layout (the writer's indented one stays so). It reports
// false when items are anything else.
func sliceQueue(c *queueCache, items [][]byte) ([]byte, []int, []int, bool) {
	k := len(c.items) - len(items)
	if k <= 0 || len(items) == 0 || (c.at == nil && c.starts == nil) {
		return nil, nil, nil, false
	}
	for i, it := range items {
		if !sameSlice(c.items[k+i], it) {
			return nil, nil, nil, false
		}
	}
	from := 0
	if c.at != nil {
		from = c.at[k]
	} else {
		from = c.starts[k] + 2 // after the item's indentation
	}
	const head = "[\n  "
	data := make([]byte, 0, len(head)+len(c.data)-from)
	data = append(append(data, head...), c.data[from:]...)
	shift := len(head) - from
	at := make([]int, len(items))
	for i := range items {
		if c.at != nil {
			at[i] = c.at[k+i] + shift
		} else {
			at[i] = c.starts[k+i] + 2 + shift
		}
	}
	var starts []int
	if c.starts != nil { // the writer's layout: keep splicing possible
		starts = make([]int, len(items))
		for i := range items {
			starts[i] = c.starts[k+i] + shift
		}
	}
	return data, starts, at, true
}
