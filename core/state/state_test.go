package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mm-wallet/mm/sdk"
)

func TestUpdateJSONParallelLosesNothing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var list []int
			if err := s.UpdateJSON(context.Background(), "list.json", &list, func() error {
				list = append(list, len(list))
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var list []int
	if _, err := s.ReadJSON("list.json", &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("got %d entries, want %d", len(list), n)
	}
	for _, p := range []string{s.Dir(), s.Path("list.json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := FilePerm
		if fi.IsDir() {
			want = DirPerm
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}

func TestCorruptFileIsReportedAndKept(t *testing.T) {
	for _, bad := range []string{"{", "not json", `{"a":1} {"b":2}`, `[1,2`, "\x00\x01"} {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.Path("w.json"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		called := false
		err = s.UpdateJSON(context.Background(), "w.json", &v, func() error { called = true; return nil })
		if sdk.CodeOf(err) != CodeStateCorrupt {
			t.Fatalf("%q: got %v, want STATE_CORRUPT", bad, err)
		}
		if called {
			t.Errorf("%q: update ran on a damaged file", bad)
		}
		var e *sdk.Error
		if !errors.As(err, &e) || e.Hint == "" || !strings.Contains(e.Message, s.Path("w.json")) {
			t.Errorf("%q: error lacks path or hint: %+v", bad, e)
		}
		got, _ := os.ReadFile(s.Path("w.json"))
		if string(got) != bad {
			t.Errorf("%q: damaged file was changed to %q", bad, got)
		}
	}
}

func TestOpenTightensLooseFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "loose")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != DirPerm {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

func TestFailedUpdateWritesNothing(t *testing.T) {
	s, _ := Open(t.TempDir())
	v := map[string]int{"a": 1}
	if err := s.UpdateJSON(context.Background(), "x.json", &v, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path("x.json"))
	boom := errors.New("boom")
	err := s.UpdateJSON(context.Background(), "x.json", &v, func() error { v["a"] = 2; return boom })
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(s.Path("x.json"))
	if string(before) != string(after) {
		t.Fatalf("file changed: %s -> %s", before, after)
	}
}
