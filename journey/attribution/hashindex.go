package attribution

// hashIndex maps 64-bit hashes to ids numbered from 0 in order of
// insertion (channels, rows) by open addressing with linear probing. A
// slot is 8 bytes, so a probe rarely leaves its cache line, where a Go
// map of 190,000 paths spent most of the reader's time. It stores no
// keys: callers compare the key of an id whose tag matches, and probe on
// when the keys differ.
type hashIndex struct {
	slots  []hashSlot // a power of two long, at most half full
	hashes []uint64   // id → its hash, to rebuild the slots when growing
}

type hashSlot struct {
	tag uint32 // the hash's high half
	id  int32  // id + 1; 0 is an empty slot
}

func (x *hashIndex) mask() uint64 { return uint64(len(x.slots) - 1) }

// first is the slot where the probe for h starts.
func (x *hashIndex) first(h uint64) int {
	if len(x.slots) == 0 {
		x.slots = make([]hashSlot, 16)
	}
	return int(h & x.mask())
}

func (x *hashIndex) next(slot int) int { return int(uint64(slot+1) & x.mask()) }

// at returns the id in slot and whether its tag is h's, or id -1 when the
// slot is empty: the end of the probe.
func (x *hashIndex) at(slot int, h uint64) (id int32, match bool) {
	e := x.slots[slot]
	return e.id - 1, e.tag == uint32(h>>32)
}

// insert adds the next id, the number of ids inserted so far, under h;
// h's probe must have ended without finding it.
func (x *hashIndex) insert(h uint64) {
	id := int32(len(x.hashes))
	x.hashes = append(double(x.hashes, 1), h)
	if 2*len(x.hashes) > len(x.slots) {
		x.slots = make([]hashSlot, max(16, 2*len(x.slots)))
		for id, h := range x.hashes {
			x.place(h, int32(id))
		}
		return
	}
	x.place(h, id)
}

func (x *hashIndex) place(h uint64, id int32) {
	slot := x.first(h)
	for x.slots[slot].id != 0 {
		slot = x.next(slot)
	}
	x.slots[slot] = hashSlot{tag: uint32(h >> 32), id: id + 1}
}
