//go:build !unix

package sdk

import (
	"errors"
	"os"
	"os/exec"
)

func startAttached(cmd *exec.Cmd) error { return cmd.Start() }

func startDetached(cmd *exec.Cmd) error { return cmd.Start() }

func redirectStdoutToNull() error {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	os.Stdout = f
	return nil
}

func dupOnto(oldfd, newfd int) error { return nil }

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p != nil && !errors.Is(err, os.ErrProcessDone)
}
