package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"
)

// keyFile keeps the wrapped data keys beside the bbolt file (<path>.keys),
// in fixed-size slots that are overwritten in place: bbolt never rewrites
// a page in place (a deleted value stays in a freed page until the page is
// reused), so a data key kept in a bucket would survive its deletion in
// the file, and with it the means to open the records deleted with it.
// Deleting a key here overwrites its slot with zeros and syncs the file.
//
// Layout: slot 0 is the header, "PKF1", then the master key's check value
// (checkValue or rotatingValue, length-prefixed). Every other slot is
// empty (zeros) or holds one key:
//
//	[0:4]    "PKS1"
//	[4:12]   owner, big-endian
//	[12:73]  wrapped data key (seal.WrappedSize)
//	[73:77]  CRC-32 (IEEE) of [0:73]
//
// A slot that does not check (a write cut by a crash) counts as empty:
// the write it belonged to was never committed, or was a deletion.
//
// The bbolt file's lock (one Store, one process) covers this file too: it
// is opened after the lock is taken. Methods are safe for concurrent use.
type keyFile struct {
	mu    sync.Mutex
	f     *os.File
	slots map[int64]keySlot // owner → slot
	free  []int64           // empty slots
	n     int64             // slots in the file, header included
	check string            // the header's check value
}

type keySlot struct {
	index   int64
	wrapped []byte
}

const (
	slotSize    = 128
	slotMagic   = "PKS1"
	headerMagic = "PKF1"
	wrappedLen  = 61 // seal.WrappedSize
	slotCRCAt   = 12 + wrappedLen
)

// openKeyFile opens or creates the key file at path.
func openKeyFile(path string) (*keyFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bolt store: key file: %w", err)
	}
	kf := &keyFile{f: f, slots: map[int64]keySlot{}}
	if err := kf.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("bolt store: key file %s: %w", path, err)
	}
	return kf, nil
}

func (kf *keyFile) load() error {
	data, err := io.ReadAll(kf.f)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		kf.n = 1
		return kf.writeHeaderLocked("")
	}
	if len(data) < slotSize || string(data[:4]) != headerMagic {
		return errors.New("not a Passerelle key file")
	}
	kf.n = int64(len(data) / slotSize)
	if n := int(binary.BigEndian.Uint16(data[4:6])); 6+n <= slotSize {
		kf.check = string(data[6 : 6+n])
	}
	for i := int64(1); i < kf.n; i++ {
		slot := data[i*slotSize : (i+1)*slotSize]
		owner, wrapped, ok := readSlot(slot)
		if !ok {
			kf.free = append(kf.free, i)
			continue
		}
		if old, dup := kf.slots[owner]; dup {
			// Only a bug could write two; keep the later one.
			kf.free = append(kf.free, old.index)
		}
		kf.slots[owner] = keySlot{index: i, wrapped: wrapped}
	}
	return nil
}

func readSlot(slot []byte) (owner int64, wrapped []byte, ok bool) {
	if string(slot[:4]) != slotMagic || binary.BigEndian.Uint32(slot[slotCRCAt:]) != crc32.ChecksumIEEE(slot[:slotCRCAt]) {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(slot[4:12])), bytes.Clone(slot[12:slotCRCAt]), true
}

// writeAt writes b at slot i and syncs the file.
func (kf *keyFile) writeAt(i int64, b []byte) error {
	if _, err := kf.f.WriteAt(b, i*slotSize); err != nil {
		return err
	}
	return kf.f.Sync()
}

func (kf *keyFile) writeHeaderLocked(check string) error {
	if len(check) > slotSize-6 {
		return errors.New("check value too long")
	}
	b := make([]byte, slotSize)
	copy(b, headerMagic)
	binary.BigEndian.PutUint16(b[4:6], uint16(len(check)))
	copy(b[6:], check)
	if err := kf.writeAt(0, b); err != nil {
		return err
	}
	kf.check = check
	return nil
}

// Check returns the header's check value ("" when none was written).
func (kf *keyFile) Check() string {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	return kf.check
}

// SetCheck writes the header's check value.
func (kf *keyFile) SetCheck(check string) error {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	return kf.writeHeaderLocked(check)
}

// Get returns owner's wrapped key, or nil.
func (kf *keyFile) Get(owner int64) []byte {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	return kf.slots[owner].wrapped
}

// Put stores owner's wrapped key, in owner's slot if it has one, and syncs.
func (kf *keyFile) Put(owner int64, wrapped []byte) error {
	if len(wrapped) != wrappedLen {
		return fmt.Errorf("bolt store: key file: wrapped key of %d bytes", len(wrapped))
	}
	kf.mu.Lock()
	defer kf.mu.Unlock()
	slot, ok := kf.slots[owner]
	if !ok {
		slot.index = kf.n
		if len(kf.free) > 0 {
			slot.index = kf.free[0]
			kf.free = kf.free[1:]
		} else {
			kf.n++
		}
	}
	b := make([]byte, slotSize)
	copy(b, slotMagic)
	binary.BigEndian.PutUint64(b[4:12], uint64(owner))
	copy(b[12:], wrapped)
	binary.BigEndian.PutUint32(b[slotCRCAt:], crc32.ChecksumIEEE(b[:slotCRCAt]))
	if err := kf.writeAt(slot.index, b); err != nil {
		if !ok {
			kf.free = append(kf.free, slot.index)
		}
		return fmt.Errorf("bolt store: key file: %w", err)
	}
	slot.wrapped = bytes.Clone(wrapped)
	kf.slots[owner] = slot
	return nil
}

// Delete overwrites owner's slot with zeros and syncs; absent is not an
// error.
func (kf *keyFile) Delete(owner int64) error {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	slot, ok := kf.slots[owner]
	if !ok {
		return nil
	}
	if err := kf.writeAt(slot.index, make([]byte, slotSize)); err != nil {
		return fmt.Errorf("bolt store: key file: %w", err)
	}
	delete(kf.slots, owner)
	kf.free = append(kf.free, slot.index)
	return nil
}

// Owners returns the owners of stored keys, in increasing order.
func (kf *keyFile) Owners() []int64 {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	out := make([]int64, 0, len(kf.slots))
	for o := range kf.slots {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// Close closes the file.
func (kf *keyFile) Close() error { return kf.f.Close() }
