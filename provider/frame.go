package provider

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// A frame is one record on disk:
//
//	magic (4 bytes) | length (4, big-endian) | CRC-32C of length and payload (4) | payload
//
// The magic starts with 0xFF, a byte that never occurs in UTF-8 and so
// never inside the JSON payloads: after damage, the next frame is found by
// searching for it (resync), and a false start is caught by the CRC, which
// covers the length too, so a flipped length bit cannot send the reader
// gigabytes ahead.
var frameMagic = [4]byte{0xFF, 'C', 'T', 0x01}

const frameHeader = 12

// maxFrame bounds one payload so a damaged length cannot make recovery
// allocate gigabytes; webhook bodies are capped far below it.
const maxFrame = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends payload, framed, to dst.
func appendFrame(dst, payload []byte) []byte {
	var h [frameHeader]byte
	copy(h[:4], frameMagic[:])
	binary.BigEndian.PutUint32(h[4:8], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[8:12], frameChecksum(payload))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// frameChecksum is the CRC-32C a frame carries: over its length, then its
// payload. It also names the frame in the spool's checkpoint.
func frameChecksum(payload []byte) uint32 {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(payload)))
	return crc32.Update(crc32.Update(0, crcTable, n[:]), crcTable, payload)
}

// errNoFrame means the bytes at an offset are not a whole valid frame.
var errNoFrame = errors.New("no valid frame")

// frameReader reads frames from an io.ReaderAt that holds size bytes.
type frameReader struct {
	r    io.ReaderAt
	size int64
}

// frameAt returns the payload of the valid frame at off and the offset
// just past it. torn reports that the bytes from off are a frame cut short
// by the end of the data (a crash mid-write), as opposed to damage.
func (fr frameReader) frameAt(off int64) (payload []byte, next int64, torn bool, err error) {
	var h [frameHeader]byte
	if rest := fr.size - off; rest < frameHeader {
		// A header cut short is torn when what there is starts like one.
		if _, err := fr.r.ReadAt(h[:rest], off); err != nil {
			return nil, 0, false, err
		}
		m := min(rest, int64(len(frameMagic)))
		return nil, 0, bytes.Equal(h[:m], frameMagic[:m]), errNoFrame
	}
	if _, err := fr.r.ReadAt(h[:], off); err != nil {
		return nil, 0, false, err
	}
	if !bytes.Equal(h[:4], frameMagic[:]) {
		return nil, 0, false, errNoFrame
	}
	n := int64(binary.BigEndian.Uint32(h[4:8]))
	if n > maxFrame {
		return nil, 0, false, errNoFrame
	}
	if off+frameHeader+n > fr.size {
		return nil, 0, true, errNoFrame
	}
	payload = make([]byte, n)
	if _, err := fr.r.ReadAt(payload, off+frameHeader); err != nil {
		return nil, 0, false, err
	}
	if frameChecksum(payload) != binary.BigEndian.Uint32(h[8:12]) {
		return nil, 0, false, errNoFrame
	}
	return payload, off + frameHeader + n, false, nil
}

// resync returns the offset of the first valid frame after off, or size
// when there is none.
func (fr frameReader) resync(off int64) (int64, error) {
	const window = 64 << 10
	buf := make([]byte, window+len(frameMagic)-1)
	for pos := off + 1; pos < fr.size; pos += window {
		n, err := fr.r.ReadAt(buf[:min(int64(len(buf)), fr.size-pos)], pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		chunk := buf[:n]
		for i := 0; ; {
			j := bytes.Index(chunk[i:], frameMagic[:1])
			if j < 0 || i+j >= window {
				break
			}
			cand := pos + int64(i+j)
			if _, _, _, err := fr.frameAt(cand); err == nil {
				return cand, nil
			} else if !errors.Is(err, errNoFrame) {
				return 0, err
			}
			i += j + 1
		}
	}
	return fr.size, nil
}

// damage is a run of bytes that held no valid frame.
type damage struct {
	off, len int64
	torn     bool // an incomplete last frame: a crash mid-write, not damage
}

// scanFrames visits every valid frame from the start, skipping damaged
// runs (reported to bad) by resyncing on the next valid frame. visit
// returning false stops the scan.
func (fr frameReader) scanFrames(visit func(payload []byte, off, next int64) bool, bad func(damage)) error {
	var off int64
	for off < fr.size {
		payload, next, torn, err := fr.frameAt(off)
		if err == nil {
			if !visit(payload, off, next) {
				return nil
			}
			off = next
			continue
		}
		if !errors.Is(err, errNoFrame) {
			return err
		}
		resumed, err := fr.resync(off)
		if err != nil {
			return err
		}
		// A torn frame is the last thing in the file: nothing valid
		// follows it. Anything else is damage.
		bad(damage{off: off, len: resumed - off, torn: torn && resumed == fr.size})
		off = resumed
	}
	return nil
}
