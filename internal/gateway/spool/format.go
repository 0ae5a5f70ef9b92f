package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// On-disk names. Segment files are named after the ID of their first record,
// zero-padded so that lexical order is numeric order.
const (
	segSuffix     = ".seg"
	segNameLen    = 20 + len(segSuffix)
	ackName       = "ack"
	lockName      = "LOCK"
	tmpSuffix     = ".tmp"
	corruptSuffix = ".corrupt"
)

// headerSize is the size of a record's frame header:
//
//	offset 0  uint32 LE  payload length N (at most MaxRecordSize)
//	offset 4  uint32 LE  CRC-32C (Castagnoli) of bytes 0..3 ‖ 8..15 ‖ payload
//	offset 8  uint64 LE  record ID
//	offset 16 N bytes    payload
//
// The checksum covers the length and the ID, so a damaged length or ID is
// caught like damaged data. IDs start at 1, so an all-zero header (the
// usual shape of a torn, zero-filled tail) is never valid.
const headerSize = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type header struct {
	n   uint32
	crc uint32
	id  uint64
}

func parseHeader(b []byte) header {
	return header{
		n:   binary.LittleEndian.Uint32(b[0:4]),
		crc: binary.LittleEndian.Uint32(b[4:8]),
		id:  binary.LittleEndian.Uint64(b[8:16]),
	}
}

// checksum is the CRC of a frame whose header bytes are hdr.
func checksum(hdr, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdr[0:4])
	c = crc32.Update(c, castagnoli, hdr[8:16])
	return crc32.Update(c, castagnoli, payload)
}

// encodeFrame writes the frame of record id into dst, which must have room
// for headerSize+len(payload) bytes, and returns the frame.
func encodeFrame(dst []byte, id uint64, payload []byte) []byte {
	f := dst[:headerSize+len(payload)]
	binary.LittleEndian.PutUint32(f[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(f[8:16], id)
	copy(f[headerSize:], payload)
	binary.LittleEndian.PutUint32(f[4:8], checksum(f[:headerSize], payload))
	return f
}

func frameSize(n int) int64 { return headerSize + int64(n) }

func segName(base uint64) string { return fmt.Sprintf("%020d%s", base, segSuffix) }

// parseSegName returns the base ID of a segment file name.
func parseSegName(name string) (uint64, bool) {
	if len(name) != segNameLen || !strings.HasSuffix(name, segSuffix) {
		return 0, false
	}
	digits := name[:20]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || base == 0 {
		return 0, false
	}
	return base, true
}

// The ack file holds the highest acknowledged ID:
//
//	offset 0  "WLSA"
//	offset 4  uint64 LE  ack ID (0: nothing acknowledged)
//	offset 12 uint32 LE  CRC-32C of bytes 0..11
//
// It is replaced atomically: written to ack.tmp, fsynced, renamed over ack,
// and the directory fsynced.
const (
	ackMagic    = "WLSA"
	ackFileSize = 16
)

func encodeAck(ack uint64) []byte {
	b := make([]byte, ackFileSize)
	copy(b, ackMagic)
	binary.LittleEndian.PutUint64(b[4:12], ack)
	binary.LittleEndian.PutUint32(b[12:16], crc32.Checksum(b[:12], castagnoli))
	return b
}

var errBadAck = errors.New("bad ack file")

func decodeAck(b []byte) (uint64, error) {
	if len(b) != ackFileSize || string(b[:4]) != ackMagic ||
		binary.LittleEndian.Uint32(b[12:16]) != crc32.Checksum(b[:12], castagnoli) {
		return 0, errBadAck
	}
	return binary.LittleEndian.Uint64(b[4:12]), nil
}

// readAck returns the persisted ack position; ok is false when there is no
// ack file.
func readAck(dir string) (ack uint64, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, ackName))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	ack, err = decodeAck(b)
	return ack, err == nil, err
}

// writeAck persists the ack position atomically.
func writeAck(dir string, ack uint64) error {
	return writeFileAtomic(dir, ackName, encodeAck(ack))
}

// writeFileAtomic replaces dir/name with data: temp file, fsync, rename,
// fsync of the directory.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// copyFileAtomic copies src to dir/name with the same care as
// writeFileAtomic.
func copyFileAtomic(src, dir, name string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := filepath.Join(dir, name+tmpSuffix)
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err = out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
