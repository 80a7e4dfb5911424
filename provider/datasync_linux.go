package provider

import (
	"os"
	"syscall"
)

// datasync makes f's written data durable without its metadata
// (fdatasync): enough for writes into space already allocated, and
// cheaper than a full fsync, which commits the file system's journal.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			// Retried on EINTR, as os.File.Sync does.
			if serr = syscall.Fdatasync(int(fd)); serr != syscall.EINTR {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}
