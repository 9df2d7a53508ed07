package mnemonic

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// Operations accepted by Manage. See the package documentation for their
// parameters, the secrets they ask for and their results.
const (
	OpStatus         = "status"
	OpImport         = "import"
	OpSetPassword    = "set-password"
	OpChangePassword = "change-password"
	OpRemovePassword = "remove-password"
	OpUnlock         = "unlock"
	OpLock           = "lock"
	OpRemove         = "remove"
)

// Manage runs an administrative operation on the key file.
func (s *Signer) Manage(ctx context.Context, req *sdk.ManageRequest) (*sdk.ManageResponse, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidRequest("manage: no request")
	}
	if s.memory {
		return nil, sdk.NewError(sdk.CodeUnsupported, "mnemonic: manage: this signer holds an in-memory mnemonic", "")
	}
	allowed := map[string][]string{
		OpStatus:         nil,
		OpImport:         {"encrypt", "replace"},
		OpSetPassword:    nil,
		OpChangePassword: nil,
		OpRemovePassword: nil,
		OpUnlock:         nil,
		OpLock:           nil,
		OpRemove:         nil,
	}
	names, ok := allowed[req.Op]
	if !ok {
		ops := make([]string, 0, len(allowed))
		for op := range allowed {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		return nil, &sdk.Error{
			Code:    sdk.CodeUnsupported,
			Message: fmt.Sprintf("mnemonic: manage: unknown operation %q", clip(req.Op, 64)),
			Hint:    "operations: " + strings.Join(ops, ", "),
		}
	}
	for k, v := range req.Params {
		if !contains(names, k) {
			return nil, invalidRequest(fmt.Sprintf("manage %s: unknown parameter %q", req.Op, clip(k, 64)))
		}
		if v != "true" && v != "false" && v != "" {
			return nil, invalidRequest(fmt.Sprintf("manage %s: parameter %s must be true or false", req.Op, k))
		}
	}
	var res map[string]string
	var err error
	switch req.Op {
	case OpStatus:
		res, err = s.status(ctx)
	case OpUnlock:
		if _, _, err = s.unlock(ctx); err == nil {
			res = map[string]string{"unlocked": "true"}
		}
	case OpLock:
		if err = s.acquire(ctx); err == nil {
			if s.wallet != nil {
				s.wallet.wipe()
				s.wallet = nil
			}
			s.release()
			res = map[string]string{"unlocked": "false"}
		}
	default:
		res, err = s.withKeyFile(ctx, func(cfg config) (map[string]string, error) {
			switch req.Op {
			case OpImport:
				return s.importMnemonic(ctx, cfg, req.Params["encrypt"] == "true", req.Params["replace"] == "true")
			case OpSetPassword:
				return s.setPassword(ctx, cfg)
			case OpChangePassword:
				return s.changePassword(ctx, cfg)
			case OpRemovePassword:
				return s.removePassword(ctx, cfg)
			default: // OpRemove
				return s.removeKeyFile(cfg)
			}
		})
	}
	if err != nil {
		return nil, err
	}
	return &sdk.ManageResponse{Result: res}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// withKeyFile runs fn holding the signer's semaphore and the key file's
// lock, so that no other call of this process and no other mm process
// changes the file meanwhile.
func (s *Signer) withKeyFile(ctx context.Context, fn func(config) (map[string]string, error)) (map[string]string, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	if !s.configured {
		return nil, &sdk.Error{Code: sdk.CodeNotConfigured, Message: "mnemonic: the signer is not configured", Hint: "the host must call Configure with a keyFile setting first"}
	}
	dir, base := filepath.Split(s.cfg.keyFile)
	if dir == "" {
		dir = "."
	}
	st, err := state.Open(dir)
	if err != nil {
		return nil, err
	}
	unlock, err := st.Lock(ctx, base)
	if err != nil {
		if ctx.Err() != nil {
			return nil, canceled(ctx.Err())
		}
		return nil, err
	}
	defer unlock()
	return fn(s.cfg)
}

func (s *Signer) status(ctx context.Context) (map[string]string, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	if !s.configured {
		return nil, &sdk.Error{Code: sdk.CodeNotConfigured, Message: "mnemonic: the signer is not configured", Hint: "the host must call Configure with a keyFile setting first"}
	}
	res := map[string]string{"keyFile": s.cfg.keyFile, "exists": "false", "encrypted": "false", "unlocked": "false"}
	data, _, err := readKeyFile(s.cfg.keyFile)
	if sdk.CodeOf(err) == sdk.CodeMissingMnemonic {
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	defer clear(data)
	res["exists"] = "true"
	res["encrypted"] = strconv.FormatBool(isEncrypted(data))
	res["unlocked"] = strconv.FormatBool(s.wallet != nil && sameFile(s.cfg.keyFile, s.wallet.file))
	return res, nil
}

func (s *Signer) importMnemonic(ctx context.Context, cfg config, encrypt, replace bool) (map[string]string, error) {
	if _, err := os.Lstat(cfg.keyFile); err == nil && !replace {
		return nil, &sdk.Error{
			Code:    CodeMnemonicExists,
			Message: fmt.Sprintf("mnemonic: a mnemonic is already stored at %s", cfg.keyFile),
			Hint:    "remove the current wallet first (mm reset) if you mean to replace it",
		}
	}
	secret, err := s.askSecret(ctx, sdk.SecretMnemonic, "BIP-39 mnemonic to import", false)
	if err != nil {
		return nil, err
	}
	canon, err := NormalizeMnemonic(string(secret))
	clear(secret)
	if err != nil {
		return nil, err
	}
	plain := []byte(canon + "\n")
	defer clear(plain)
	data := plain
	if encrypt {
		pw, err := s.askSecret(ctx, sdk.SecretNewPassword, "New password for the mm mnemonic", false)
		if err != nil {
			return nil, err
		}
		data, err = encryptKeyFile(plain, pw, cfg.workFactor)
		clear(pw)
		if err != nil {
			return nil, err
		}
	}
	if err := state.WriteAtomic(cfg.keyFile, data, state.FilePerm); err != nil {
		return nil, err
	}
	fi, err := os.Stat(cfg.keyFile)
	if err != nil {
		return nil, sdk.Errorf(state.CodeStateIO, "mnemonic: stat key file: %w", err)
	}
	w, err := s.walletFrom(ctx, cfg, plain, fi)
	if err != nil {
		return nil, err
	}
	if s.wallet != nil {
		s.wallet.wipe()
	}
	s.wallet = w
	p, err := indexPath(cfg.indexPath, 0)
	if err != nil {
		return nil, err
	}
	_, addr, err := w.key(p)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"address":   addr.Hex(),
		"path":      p.String(),
		"encrypted": strconv.FormatBool(encrypt),
		"keyFile":   cfg.keyFile,
	}, nil
}

func (s *Signer) setPassword(ctx context.Context, cfg config) (map[string]string, error) {
	data, _, err := readKeyFile(cfg.keyFile)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	if isEncrypted(data) {
		return nil, &sdk.Error{
			Code:    sdk.CodeAlreadyEncrypted,
			Message: "mnemonic: the stored mnemonic already has a password",
			Hint:    "use mm wallet password change to change it",
		}
	}
	if _, err := NormalizeMnemonic(string(data)); err != nil {
		return nil, state.Corrupt(cfg.keyFile, errors.New("it does not hold a valid mnemonic"))
	}
	pw, err := s.askSecret(ctx, sdk.SecretNewPassword, "New password for the mm mnemonic", false)
	if err != nil {
		return nil, err
	}
	enc, err := encryptKeyFile(data, pw, cfg.workFactor)
	clear(pw)
	if err != nil {
		return nil, err
	}
	return s.rewrite(cfg, enc, true)
}

func (s *Signer) changePassword(ctx context.Context, cfg config) (map[string]string, error) {
	plain, err := s.decryptForChange(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	pw, err := s.askSecret(ctx, sdk.SecretNewPassword, "New password for the mm mnemonic", false)
	if err != nil {
		return nil, err
	}
	enc, err := encryptKeyFile(plain, pw, cfg.workFactor)
	clear(pw)
	if err != nil {
		return nil, err
	}
	return s.rewrite(cfg, enc, true)
}

func (s *Signer) removePassword(ctx context.Context, cfg config) (map[string]string, error) {
	plain, err := s.decryptForChange(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return s.rewrite(cfg, plain, false)
}

// decryptForChange reads the encrypted key file and decrypts it with the
// current password, which is always asked for, even when the signer is
// unlocked.
func (s *Signer) decryptForChange(ctx context.Context, cfg config) ([]byte, error) {
	data, _, err := readKeyFile(cfg.keyFile)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	if !isEncrypted(data) {
		return nil, &sdk.Error{
			Code:    sdk.CodeNotEncrypted,
			Message: "mnemonic: the stored mnemonic has no password",
			Hint:    "use mm wallet password set to set one",
		}
	}
	pw, err := s.askSecret(ctx, sdk.SecretPassword, "Current password of the mm mnemonic", false)
	if err != nil {
		return nil, err
	}
	plain, err := decryptKeyFile(cfg.keyFile, data, pw)
	clear(pw)
	if err != nil {
		return nil, err
	}
	if _, err := NormalizeMnemonic(string(plain)); err != nil {
		clear(plain)
		return nil, state.Corrupt(cfg.keyFile, errors.New("it does not hold a valid mnemonic"))
	}
	return plain, nil
}

// rewrite replaces the key file with data, which holds the same mnemonic,
// and keeps the signer unlocked if it was.
func (s *Signer) rewrite(cfg config, data []byte, encrypted bool) (map[string]string, error) {
	fresh := s.wallet != nil && sameFile(cfg.keyFile, s.wallet.file)
	if err := state.WriteAtomic(cfg.keyFile, data, state.FilePerm); err != nil {
		return nil, err
	}
	if s.wallet != nil {
		fi, err := os.Stat(cfg.keyFile)
		if fresh && err == nil {
			s.wallet.file = fi
		} else {
			s.wallet.wipe()
			s.wallet = nil
		}
	}
	return map[string]string{"encrypted": strconv.FormatBool(encrypted)}, nil
}

func (s *Signer) removeKeyFile(cfg config) (map[string]string, error) {
	if s.wallet != nil {
		s.wallet.wipe()
		s.wallet = nil
	}
	err := os.Remove(cfg.keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{"removed": "false"}, nil
	}
	if err != nil {
		return nil, sdk.Errorf(state.CodeStateIO, "mnemonic: remove key file: %w", err)
	}
	return map[string]string{"removed": "true"}, nil
}
